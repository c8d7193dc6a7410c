package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/sluice-aml/sluice/alerts/casequeue"
)

// Request limits: an analyst's note is prose, not an attachment.
const (
	maxBody    = 64 << 10
	maxNote    = 8000
	maxAnalyst = 100
)

func (s *Server) listCases(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := casequeue.Filter{Status: q.Get("status")}
	if f.Status == "all" {
		f.Status = ""
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit %q: want a positive number (at most %d)", l, casequeue.MaxLimit))
			return
		}
		f.Limit = n
	}
	cs, err := s.deps.Cases.List(r.Context(), f)
	if err != nil {
		s.caseError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, cs)
}

func (s *Server) getCase(w http.ResponseWriter, r *http.Request) {
	c, err := s.deps.Cases.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.caseError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// action is the body of claim and close. Analyst may instead come from the
// user name of HTTP basic.
type action struct {
	Analyst     string `json:"analyst"`
	Disposition string `json:"disposition"`
	Note        string `json:"note"`
}

func (s *Server) readAction(w http.ResponseWriter, r *http.Request) (action, bool) {
	var a action
	if r.ContentLength != 0 {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			writeError(w, http.StatusBadRequest, "body: "+err.Error()+` (want JSON like {"analyst":"ana","disposition":"escalated","note":"..."})`)
			return a, false
		}
	}
	if a.Analyst == "" {
		if user, _, ok := r.BasicAuth(); ok {
			a.Analyst = user
		}
	}
	switch {
	case a.Analyst == "":
		writeError(w, http.StatusBadRequest, `analyst is required: send {"analyst":"name"} or use HTTP basic with the analyst as user`)
		return a, false
	case len(a.Analyst) > maxAnalyst || !utf8.ValidString(a.Analyst):
		writeError(w, http.StatusBadRequest, fmt.Sprintf("analyst: want valid UTF-8 of at most %d bytes", maxAnalyst))
		return a, false
	case len(a.Note) > maxNote || !utf8.ValidString(a.Note):
		writeError(w, http.StatusBadRequest, fmt.Sprintf("note: want valid UTF-8 of at most %d bytes", maxNote))
		return a, false
	}
	return a, true
}

func (s *Server) claimCase(w http.ResponseWriter, r *http.Request) {
	a, ok := s.readAction(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if err := s.deps.Cases.Claim(r.Context(), id, a.Analyst); err != nil {
		s.caseError(w, err)
		return
	}
	s.log.Info("case claimed", "id", id, "analyst", a.Analyst)
	s.getCase(w, r)
}

func (s *Server) closeCase(w http.ResponseWriter, r *http.Request) {
	a, ok := s.readAction(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if err := s.deps.Cases.Close(r.Context(), id, a.Analyst, a.Disposition, a.Note); err != nil {
		s.caseError(w, err)
		return
	}
	s.log.Info("case closed", "id", id, "analyst", a.Analyst, "disposition", a.Disposition)
	s.getCase(w, r)
}

// caseError maps the queue's errors to statuses; anything else is the
// store failing, logged in full and reported without internals.
func (s *Server) caseError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, casequeue.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, casequeue.ErrClaimed), errors.Is(err, casequeue.ErrClosed):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, casequeue.ErrDisposition), errors.Is(err, casequeue.ErrStatus), errors.Is(err, casequeue.ErrAnalyst):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		s.log.Error("case queue", "err", err)
		writeError(w, http.StatusServiceUnavailable, "case queue unavailable; see the server log")
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluice-aml/sluice/alerts/casequeue"
)

// FuzzCaseAction sends arbitrary bodies to claim and close: the answer must
// be a decision (2xx or 4xx), never a server error or a panic.
func FuzzCaseAction(f *testing.F) {
	for _, s := range []string{
		`{"analyst":"ana"}`, `{"analyst":"ana","disposition":"str_filed","note":"x"}`,
		``, `{`, `{"analyst":""}`, `{"analyst":"\u0000","note":"\xff"}`, `[]`, `{"analyst":1}`,
	} {
		f.Add("claim", s)
		f.Add("close", s)
	}
	q := casequeue.NewMemory()
	if err := q.Put(context.Background(), loadAlerts(f)); err != nil {
		f.Fatal(err)
	}
	h := New(Config{Token: testToken}, Deps{Cases: q}).Handler()
	f.Fuzz(func(t *testing.T, verb, body string) {
		if verb != "claim" {
			verb = "close"
		}
		req := httptest.NewRequest("POST", "/api/alerts/al-0a11c3f702/"+verb, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 || (rec.Code != http.StatusOK && !strings.Contains(rec.Body.String(), `"error"`)) {
			t.Fatalf("body %q: status %d %s", body, rec.Code, rec.Body)
		}
	})
}

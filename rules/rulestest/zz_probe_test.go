package rulestest_test

import (
	"fmt"
	"testing"

	"github.com/sluice-aml/sluice/ingest"
	"github.com/sluice-aml/sluice/rules"
	"github.com/sluice-aml/sluice/rules/rulestest"
)

func TestZZProbe(t *testing.T) {
	tr := rulestest.NewWith(t, rulestest.Config{Paths: []string{"/tmp/rtcfg/rules", "/tmp/rtcfg/typologies"}, Profiles: map[string]rules.Profile{"C-7700": {Type: "organization", Industry: "323111", Country: "CA", Region: "ON"}}})
	s := &scenario{prefix: "shop"}
	shop := &ingest.Party{Account: "CA-007-700", CustomerID: "C-7700", Type: "organization", Name: "Maple Print Shop"}
	for week := 0; week < 4; week++ {
		start := monday.Add(hours(float64(24 * 7 * week)))
		for c := 0; c < 4; c++ {
			client := &ingest.Party{Account: fmt.Sprintf("CA-007-71%d", c), Type: "organization"}
			tr.Feed(s.ev(start.Add(hours(float64(2*c))), "eft", "5000.00", "CAD", client, shop))
		}
		pay, day := "3500.00", 3.0
		if week == 3 {
			pay, day = "4300.00", 4
		}
		for p := 0; p < 4; p++ {
			supplier := &ingest.Party{Account: fmt.Sprintf("CA-007-72%d", p), Type: "organization"}
			tr.Feed(s.ev(start.Add(hours(24*day+float64(p))), "eft", pay, "CAD", shop, supplier))
		}
	}
	t.Log(tr.Explain("CA-007-700"))
	tr2 := rulestest.New(t, starter...)
	s = &scenario{prefix: "bills"}
	billers := []*ingest.Party{
		{Account: "CA-HYDRO-TOR", CustomerID: "C-HYDRO", Name: "Toronto Hydro"},
		{Account: "CA-GAS-ENB", CustomerID: "C-GAS", Name: "Enbridge Gas"},
		{Account: "CA-CITY-TOR", CustomerID: "C-CITY", Name: "City of Toronto property tax"},
	}
	amounts := [][]string{{"142.10", "96.40", "1850.00"}, {"188.75", "120.00", "2210.00"}, {"131.00", "84.30", "1640.00"}, {"205.60", "133.90", "2475.00"}}
	for h := 0; h < 4; h++ {
		payer := cust(fmt.Sprintf("CA-007-80%d", h), fmt.Sprintf("C-780%d", h))
		for b, biller := range billers {
			tr2.Feed(s.ev(monday.Add(hours(float64(5*h+30*b))), "eft", amounts[h][b], "CAD", payer, biller))
		}
	}
	for _, id := range []string{"bills-12", "bills-11", "bills-09"} {
		t.Log(id, hitIDs(tr2.Hits(id)))
	}
}

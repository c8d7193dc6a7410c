package server

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sluice-aml/sluice/alerts/casequeue"
)

// TestPageInBrowser loads the case page in headless Chromium, when one is
// installed, and checks the script ran under the page's CSP and rendered the
// queue with masked accounts and escaped names. Set SLUICE_SCREENSHOT to a
// .png path to keep a picture of it.
func TestPageInBrowser(t *testing.T) {
	bin := ""
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(b); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("no Chromium on PATH (apt-get install chromium); the page's HTTP side is covered by TestPage")
	}
	q := casequeue.NewMemory()
	as := loadAlerts(t)
	ctx := context.Background()
	if err := q.Put(ctx, as); err != nil {
		t.Fatal(err)
	}
	if err := q.Claim(ctx, as[0].ID, "ana"); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(New(Config{Token: testToken}, Deps{Cases: q}).Handler())
	defer ts.Close()
	url := ts.URL + "/#token=" + testToken

	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		base := []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
			"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=4000", "--window-size=1300,700"}
		out, err := exec.CommandContext(ctx, bin, append(base, args...)...).Output()
		if err != nil {
			t.Fatalf("%s: %v", bin, err)
		}
		return string(out)
	}
	dom := run("--dump-dom", url)
	want := []string{
		"\u2022\u2022\u2022\u2022 0045", // US-220-77310045 masked in the list
		"funnel account 72",
		"list match",
		"Claim",
		"1 rule \u00b7 2 tx",
		"&lt;script&gt;alert(1)&lt;/script&gt;", // a hostile name shown as text
	}
	// The open tab comes first: the claimed case is not in it.
	if strings.Contains(dom, "1902") {
		t.Error("the open tab shows a claimed case")
	}
	for _, w := range want {
		if !strings.Contains(dom, w) {
			t.Errorf("rendered page lacks %q", w)
		}
	}
	if strings.Contains(dom, "US-220-77310045") {
		t.Error("list view shows a full account number")
	}
	if strings.Contains(dom, "<script>alert(1)</script>") {
		t.Error("a name from an alert was parsed as HTML")
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
	if shot := os.Getenv("SLUICE_SCREENSHOT"); shot != "" {
		run("--screenshot="+shot, url)
	}

	// A link to one case opens its details: rule reasons with their values,
	// screening hits and the full account.
	dom = run("--dump-dom", url+"&case="+as[1].ID)
	for _, w := range []string{
		as[1].Rules[0].Reason,
		"distinct_cities_7d = 6",
		"CARTEL DE JALISCO NUEVA GENERACION",
		"97%",
		"US-220-77310045",
		"Close case",
	} {
		if !strings.Contains(dom, w) {
			t.Errorf("case details lack %q", w)
		}
	}
	if shot := os.Getenv("SLUICE_SCREENSHOT"); shot != "" {
		run("--screenshot="+strings.TrimSuffix(shot, ".png")+"-case.png", url+"&case="+as[1].ID)
	}
}

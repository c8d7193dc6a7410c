package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemo runs `sluice demo` for a few seconds on a small bank and checks
// that a new user sees explained alerts and the dead-letter count.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo streams for seconds; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := demo(ctx, demoOptions{rate: 5000, customers: 300, addr: "127.0.0.1:0", out: &out}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"case queue: http://127.0.0.1:", "#token=", "warm-up done", "deliberately malformed"} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	alert := regexp.MustCompile(`(?m)^ALERT  al-[0-9a-f]{16} \S+ score \d+ [a-z_]+\(\d+\).* on [*]+\w{4}: .+$`)
	if n := len(alert.FindAllString(text, -1)); n == 0 {
		t.Errorf("no explained alert with a masked account in the demo output:\n%s", text)
	}
}

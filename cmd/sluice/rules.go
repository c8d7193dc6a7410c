package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/sluice-aml/sluice/rules"
)

func rulesCmd(args []string) int {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(os.Stderr, "usage: sluice rules check [DIR...]")
			return exitOK
		}
		fmt.Fprintln(os.Stderr, "sluice rules: usage: sluice rules check [DIR...]")
		return exitUsage
	}
	fs := flag.NewFlagSet("rules check", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: sluice rules check [DIR...]\n\nCompiles and validates every rule, feature and typology under the\ndirectories (default configs/rules and configs/typologies) and prints each\nerror with its file, line and field.")
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	dirs := fs.Args()
	if len(dirs) == 0 {
		dirs = []string{"configs/rules", "configs/typologies"}
	}
	set, err := rules.Load(dirs...)
	if err != nil {
		var errs rules.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				fmt.Fprintln(os.Stderr, e.Error())
			}
			fmt.Fprintf(os.Stderr, "sluice rules check: %d error(s)\n", len(errs))
			return exitWork
		}
		return fail("rules check", err)
	}
	shadow := 0
	for _, r := range set.Rules {
		if r.Shadow {
			shadow++
		}
	}
	fmt.Printf("ok: %d features, %d rules (%d shadow), %d typologies, %d parameters in %d files\nruleset %s\n",
		len(set.Features), len(set.Rules), shadow, len(set.Typologies), len(set.Params), len(set.Files), set.Hash)
	// What accounts at other banks cost: their window state is only what
	// rules that do not require their subject to be the bank's own read.
	var open []string
	for _, r := range set.Rules {
		if !r.OwnSubject() && len(r.Reads) > 0 {
			open = append(open, r.ID)
		}
	}
	n := 0
	for _, f := range set.ForeignReads() {
		if f {
			n++
		}
	}
	fmt.Printf("accounts at other banks keep %d of the %d features", n, len(set.Features))
	if len(open) > 0 {
		fmt.Printf(", for rules whose subject need not be a customer (add to.own or from.own to those about customers): %s", strings.Join(open, ", "))
	}
	fmt.Println()
	return exitOK
}

// Command sluice is the AML transaction-monitoring stream processor: see
// spec/cli.md for the command line and README.md for a tour.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"strings"
)

// Exit codes of spec/cli.md.
const (
	exitOK    = 0
	exitWork  = 1
	exitUsage = 2
)

type command struct {
	run  func(args []string) int
	help string
}

var commands = map[string]command{
	"demo":   {demoCmd, "the whole system on one machine with nothing installed"},
	"run":    {runCmd, "the production processor: Kafka in, Redis windows, alerts out"},
	"replay": {replayCmd, "run a recorded stream through the rules and write the alerts"},
	"gen":    {genCmd, "write a synthetic stream with injected typologies and labels"},
	"bench":  {benchCmd, "end-to-end benchmark through the Kafka protocol and the window store"},
	"rules":  {rulesCmd, "rules check [DIR...]: compile and validate rules and typologies"},
	"screen": {screenCmd, "screen names or wallets against the designated-entity lists"},
	"lists":  {listsCmd, "lists update: fetch, validate and swap in the official lists"},
	"eval":   {evalCmd, "measure alerts against labels: recall per typology, precision, F1"},
}

func main() {
	// The hot path allocates short-lived objects per event; trading memory
	// for fewer collections pays (about 1.3x on replay). GOGC still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if len(os.Args) > 1 && os.Args[1] == benchLoadArg {
		os.Exit(benchLoad(os.Args[2:]))
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "sluice: unknown command %q; run 'sluice --help' for the list\n", args[0])
		return exitUsage
	}
	return c.run(args[1:])
}

func usage() {
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: sluice COMMAND [flags]   (sluice COMMAND --help for its flags)\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-7s %s\n", n, commands[n].help)
	}
	fmt.Fprint(os.Stderr, b.String())
}

// fail prints one line to stderr and returns the work-failure code.
func fail(cmd string, err error) int {
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	fmt.Fprintf(os.Stderr, "sluice %s: %s\n", cmd, msg)
	return exitWork
}

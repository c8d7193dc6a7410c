// Package server is Sluice's HTTP surface: /metrics, /healthz and /readyz
// for operators, and the case API and case page for analysts.
//
// The case API and the page's data show customer data, so they require the
// server token (Authorization: Bearer TOKEN, or HTTP basic with the token
// as password and the analyst as user), compared in constant time. Without
// a token the case API is refused (fail closed) unless the operator asked
// for an insecure demo explicitly. /metrics, /healthz and /readyz carry no
// customer data and need no token.
//
// The page (page.html, embedded) is a static shell with no data in it: it
// reads the token from the URL fragment (#token=..., which browsers never
// send to the server or put in logs), keeps it in sessionStorage and calls
// the case API with it.
package server

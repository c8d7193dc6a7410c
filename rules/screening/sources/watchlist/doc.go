// Package watchlist reads a bank's own watch list, list id "internal", in
// either of two simple formats:
//
// CSV with a header row naming the columns (id and name required; the others
// optional; several values in one cell separated by "|"):
//
//	id,name,type,aliases,programs,wallets,ids
//	W-1,Acme Trading SA de CV,organization,Acme Trading|ACME TRD,INTERNAL,,RFC ATR-010101-AB1
//
// or YAML in the lists YAML format with "list: internal".
package watchlist

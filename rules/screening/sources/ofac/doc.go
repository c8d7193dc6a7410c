// Package ofac reads the US Treasury OFAC Specially Designated Nationals list
// in its legacy CSV form (sdn.csv, alt.csv, add.csv, sdn_comments.csv) into
// list entries with the list id "ofac-sdn".
//
// Much of what a screener needs sits in the free-text remarks: more aliases
// ("a.k.a. 'Mencho'"), dates of birth, nationalities, identity documents and
// "Digital Currency Address - XBT ..." wallets. ParseRemarks pulls those out.
// Remarks longer than OFAC's column limit continue in sdn_comments.csv, keyed
// by the same ent_num, and are joined before parsing.
//
// ReadXML reads the same list from OFAC's sdn.xml (either namespace) and
// gives the same entries as the CSV files for the same parties, so a
// deployment can switch format without changing its list hash.
package ofac

// Package un reads the UN Security Council consolidated sanctions list
// (https://www.un.org/sc/resources/sc-sanctions.xsd) into list entries with
// the list id "un". The UN regime (Al-Qaida, DRC, DPRK, ...) becomes the
// entry's program tag "UN-<regime>".
package un

// Package canada reads Canada's two lists:
//
//   - the Consolidated Canadian Autonomous Sanctions List (Special Economic
//     Measures Act and JVCFOA), published by Global Affairs Canada as
//     sema-lmes.xml: a flat <data-set> of <record> elements, list id
//     "ca-sema", program tag "CA-SEMA-<regime>";
//   - the Criminal Code listed terrorist entities (Public Safety Canada
//     publishes them as a web page only), shipped as YAML in configs/lists in
//     the lists YAML format, list id "ca-terrorist", program tag
//     "CA-TERRORIST".
//
// Global Affairs has published the XML with two spellings of the element
// names, English only (<LastName>) and bilingual (<LastName-NomDeFamille>);
// both are read.
package canada

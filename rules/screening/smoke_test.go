package screening

import "testing"

func TestSmoke(t *testing.T) {
	s := fullScreener(t)
	t.Logf("names %d vocab %d hash %s counts %v", len(s.names), len(s.tokText), s.Hash(), s.set.Counts())
	for _, q := range []string{"joaquin guzman loera", "Cartel Jalisco Nueva Generación", "Jose Guzman", "Joaquin Guzman", "GUZMAN LOERA, Joaquin", "Joakin Guzman Loera", "Maria Garcia", "Mohammed Ali", "Hizbullah", "Tren de Aragua", "MS-13", "Anglo Caribbean Company Ltd", "1Fz29BQp82pE3vXXcsZoMNQ3KSHfMzfMe3", "CAUP590612HJCDRR09"} {
		ms := s.Screen(q)
		t.Logf("%q: %d", q, len(ms))
		for _, m := range ms {
			t.Logf("   %s %s %q %.3f %v %v | %s", m.List, m.Entry, m.ListedName, m.Score, m.Programs, m.Designated, m.Explain)
		}
	}
}

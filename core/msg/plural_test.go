package msg

import "testing"

func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "0 epochs"}, {1, "1 epoch"}, {2, "2 epochs"}, {-1, "-1 epochs"}} {
		if got := Plural(tc.n, "epoch", "epochs"); got != tc.want {
			t.Errorf("Plural(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

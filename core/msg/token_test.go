package msg

import (
	"strings"
	"testing"
)

// TestCheckToken: printable ASCII without spaces passes; anything else is
// refused, the error naming the character's place (counted in
// characters, not bytes) and never the token.
func TestCheckToken(t *testing.T) {
	for _, ok := range []string{"", "abc", "0123456789abcdef", "a!~#$%&'()*+,-./:;<=>?@[]^_`{|}"} {
		if err := CheckToken(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for tok, at := range map[string]string{"a b": "character 2", "éa\x7f": "character 1", "ab\tc": "character 3", "ééx\n": "character 1", "secret€": "character 7", "abc\u00a0": "character 4"} {
		err := CheckToken(tok)
		if err == nil || !strings.Contains(err.Error(), at+" ") || strings.Contains(err.Error(), tok) {
			t.Errorf("%q: %v, want an error at %s that does not quote the token", tok, err, at)
		}
	}
}

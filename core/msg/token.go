package msg

import "fmt"

// CheckToken checks a classroom token, as the server takes it (serve
// --token) and as the pages send it: printable ASCII without spaces, what
// an Authorization header can carry (a browser's fetch refuses a header
// value beyond Latin-1 before it reaches the server). The token is a
// secret: the error says where, not what.
func CheckToken(token string) error {
	n := 0
	for _, c := range token {
		n++
		if c <= ' ' || c > '~' {
			return fmt.Errorf("token: character %d is not printable ASCII or is a space; want printable ASCII without spaces, which an Authorization header can carry", n)
		}
	}
	return nil
}

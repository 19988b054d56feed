package msg

import "strconv"

// Plural writes a count of things for people to read: "1 epoch" or
// "3 epochs", "0 files" (one for n = 1, many otherwise), as the page, the
// server and the command line write their counts.
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

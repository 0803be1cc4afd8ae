// Package suggest finds the word a person probably meant: the closest of the words that
// would have been right, when it is only a slip away (a letter or two off, another
// case, other separators).
package suggest

import "strings"

// Closest returns the option word is a slip of, or "" when none is close enough.
func Closest(word string, options []string) string {
	want := Normalize(word)
	best, bestD := "", -1
	for _, o := range options {
		have := Normalize(o)
		d := Distance(want, have)
		if d == 0 && want == "" {
			continue
		}
		if d == 0 || d <= 2 && d <= len(have)/4+1 && d < len(have) {
			if bestD < 0 || d < bestD {
				best, bestD = o, d
			}
		}
	}
	return best
}

// Normalize makes spellings of one name equal: lower case, without '-', '_' and '.'.
func Normalize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r != '-' && r != '_' && r != '.' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Distance is the optimal string alignment distance of a and b: the insertions,
// deletions, substitutions and swaps of neighbours that make one the other.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

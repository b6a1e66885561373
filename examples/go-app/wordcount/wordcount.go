// Package wordcount counts words: the example module planexec's go-test gate runs on.
package wordcount

import (
	"sort"
	"strings"
)

// Count returns how often each lower-cased word occurs in text.
func Count(text string) map[string]int {
	out := map[string]int{}
	for _, w := range strings.Fields(text) {
		w = strings.ToLower(strings.Trim(w, ".,;:!?\"'()"))
		if w != "" {
			out[w]++
		}
	}
	return out
}

// Top returns the n most frequent words, ties broken alphabetically.
func Top(counts map[string]int, n int) []string {
	words := make([]string, 0, len(counts))
	for w := range counts {
		words = append(words, w)
	}
	sort.Slice(words, func(i, j int) bool {
		if counts[words[i]] != counts[words[j]] {
			return counts[words[i]] > counts[words[j]]
		}
		return words[i] < words[j]
	})
	if n < len(words) {
		words = words[:n]
	}
	return words
}

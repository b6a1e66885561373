package wordcount

import (
	"reflect"
	"testing"
)

func TestCount(t *testing.T) {
	cases := []struct {
		name string
		text string
		want map[string]int
	}{
		{"empty", "", map[string]int{}},
		{"punctuation", "Go, go. GO!", map[string]int{"go": 3}},
		{"mixed", "a b a", map[string]int{"a": 2, "b": 1}},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := Count(c.text); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Count(%q) = %v, want %v", c.text, got, c.want)
			}
		})
	}
}

func TestTop(t *testing.T) {
	got := Top(map[string]int{"b": 2, "a": 2, "c": 5}, 2)
	if want := []string{"c", "a"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Top = %v, want %v", got, want)
	}
}

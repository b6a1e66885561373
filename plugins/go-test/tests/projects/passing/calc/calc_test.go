package calc

import "testing"

func TestAdd(t *testing.T) {
	if Add(2, 2) != 4 {
		t.Fatal("Add(2, 2) != 4")
	}
}

func TestSub(t *testing.T) {
	for _, c := range []struct{ name string; a, b, want int }{{"small", 3, 1, 2}, {"negative", 1, 3, -2}} {
		t.Run(c.name, func(t *testing.T) {
			if got := Sub(c.a, c.b); got != c.want {
				t.Errorf("Sub(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
			}
		})
	}
}

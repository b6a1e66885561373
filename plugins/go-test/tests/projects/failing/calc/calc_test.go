package calc

import "testing"

func TestAdd(t *testing.T) {
	t.Parallel()
	if Add(2, 2) != 4 {
		t.Fatal("Add(2, 2) != 4")
	}
}

func TestSub(t *testing.T) {
	cases := []struct {
		name       string
		a, b, want int
	}{{"small", 3, 1, 2}, {"wrong", 1, 3, 2}}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := Sub(c.a, c.b); got != c.want {
				t.Errorf("Sub(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
			}
		})
	}
}

func TestSkipped(t *testing.T) {
	t.Skip("not on this machine")
}

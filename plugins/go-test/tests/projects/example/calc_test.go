package calc

import (
	"fmt"
	"testing"
)

func TestDouble(t *testing.T) {
	if Double(2) != 4 {
		t.Fatal("bad")
	}
}

func ExampleDouble() {
	fmt.Println(Double(3))
	// Output: 7
}

// Package broken does not compile.
package broken

func Twice(a int) int {
	return a * nope
}

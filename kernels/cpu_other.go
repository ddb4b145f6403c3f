//go:build !amd64 || purego

package kernels

// Without assembly (another architecture, or the purego tag) the feature
// flags in cpu.go stay false and every kernel runs its pure-Go twin.

package budget

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"
)

// MemTotal returns MemTotal from /proc/meminfo in bytes, or 0.
func MemTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	return parseMemTotal(f)
}

// parseMemTotal returns the "MemTotal: N kB" line of a meminfo file in
// bytes, or 0 if there is none or it does not parse.
func parseMemTotal(r io.Reader) int64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		num, ok := strings.CutSuffix(strings.TrimSpace(rest), " kB")
		kb, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if !ok || err != nil || kb <= 0 || kb > 1<<40 {
			return 0
		}
		return kb << 10
	}
	return 0
}

package budget

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrTooLarge is returned, wrapped, for a file or stream over its cap.
var ErrTooLarge = errors.New("too large")

// ErrNotRegular is returned, wrapped, for a path that is not a regular
// file: a device such as /dev/zero, a pipe or a socket, which may never end.
var ErrNotRegular = errors.New("not a regular file")

// Open opens path for reading if it is a regular file of at most max
// bytes, and returns it with its size. It checks before opening, so that
// opening a FIFO cannot block.
func Open(path string, max int64) (*os.File, int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if err := checkInfo(path, fi, max); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	// The path may have changed between Stat and Open.
	if fi, err = f.Stat(); err == nil {
		err = checkInfo(path, fi, max)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

func checkInfo(path string, fi os.FileInfo, max int64) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: %w (%v)", path, ErrNotRegular, fi.Mode().Type())
	}
	if fi.Size() > max {
		return fmt.Errorf("%s: %s, over the %s cap: %w", path, Size(fi.Size()), Size(max), ErrTooLarge)
	}
	return nil
}

// ReadFile reads a regular file of at most max bytes, as os.ReadFile does.
// A file that grows past max while being read is refused too.
func ReadFile(path string, max int64) ([]byte, error) {
	f, size, err := Open(path, max)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data := make([]byte, 0, size+1)
	data, err = readAll(io.LimitReader(f, max+1), data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: grew past the %s cap while read: %w", path, Size(max), ErrTooLarge)
	}
	return data, nil
}

// ReadAll reads r to its end, refusing more than max bytes.
func ReadAll(r io.Reader, max int64) ([]byte, error) {
	data, err := readAll(io.LimitReader(r, max+1), nil)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("stream over the %s cap: %w", Size(max), ErrTooLarge)
	}
	return data, nil
}

func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// Package budget estimates, before anything is allocated, whether a
// command's working set fits in the memory the process may use, and reads
// files and streams through bounded readers, so that a flag, a file
// header or a never-ending device cannot make elastic run out of memory.
//
// The limit is the Go runtime's soft memory limit: GOMEMLIMIT when set,
// otherwise the one cmd/elastic sets from the machine's RAM; a process
// without either (a library user, a test) is limited by the RAM itself.
package budget

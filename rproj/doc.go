// Package rproj implements the sparse random projections that elastic uses
// to build low-dimensional approximations of weights and activations.
//
// # Overview
//
// Dual-module inference (thesis chapter 3) replaces a layer W·x by
// W_LL·P·x, and dimension-reduction search (chapter 4) compares inputs and
// weights after projecting both by P; in both, P is a k×d matrix whose
// entries are sqrt(s/k)·{+1, 0, −1} with probabilities 1/(2s), 1−1/s,
// 1/(2s) (equations 3.6 and 4.6; s = 3 in the thesis). By the
// Johnson–Lindenstrauss lemma such a P preserves pairwise squared distances
// within a factor 1±ε (equation 3.8), and hence inner products (equation
// 4.4), once k is of order log(n)/ε². KForDMI and KForDSG give the k the
// thesis uses, and KForProb the bound with an explicit failure probability.
//
// A Projection stores P as a kernels.Ternary, so applying it costs only
// additions plus one multiply per output. Projections are generated from a
// seed with math/rand/v2's PCG: the same (k, d, s, seed) always gives the
// same matrix.
//
// In the runtime (package speculate) the projection is the first stage of
// every speculator: little modules, screeners and, next, the attention
// and sparse-training predictors.
package rproj

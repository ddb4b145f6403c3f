// Package spec fits the speculator of dual-module inference — the thesis's
// "little module" (chapter 3) and the screener of chapter 6 — to an exact
// linear map, and runs it.
//
// # Overview
//
// A speculator imitates a big layer y = Wx + b (W is N×D) cheaply as
// ỹ = W̃(Px) + b̃, where P is a fixed K×D sparse random projection with
// K ≪ D and W̃ is a small N×K matrix, later quantized to a few bits. Its
// outputs decide which rows of the big layer are worth computing exactly.
// Fitting means choosing W̃ and b̃ to minimise the thesis's loss
// (eq. 3.12, eq. 6.4), Σ_s ‖(Wx_s + b) − (W̃Px_s + b̃)‖², over calibration
// inputs x_s.
//
// The thesis descends this loss by minibatch SGD (Algorithms 1 and 3);
// FitSGD reproduces that. But with P fixed, the loss is ordinary least
// squares in the augmented projection ẑ = [Px; 1], so its minimiser solves
// the normal equations
//
//	[W̃ | b̃] G = C,   G = Σ_s ẑ_s ẑ_sᵀ,   C = Σ_s y_s ẑ_sᵀ.
//
// G is (K+1)×(K+1) and C is N×(K+1), and both are sums over samples, so a
// single streaming pass over the calibration set (Stats.Add) gathers all
// the loss depends on; Stats.Solve then factors a K×K matrix once. The
// result is the exact minimiser — no learning rate, epochs, or convergence
// test — and is never worse than SGD on the same data. An optional ridge
// λ‖W̃‖² (the bias left unpenalised) regularises small calibration sets.
//
// When the target is a known linear map, C need not be built from the
// targets at all: C = [W | b]·[Σ xẑᵀ; Σ ẑᵀ], so Stats keeps the D×(K+1)
// moment Σ xẑᵀ and multiplies by W once at the end. For S samples that
// costs O(S·D·K + N·D·K) instead of the O(S·N·D) of computing every target.
// Targets from anywhere else (recorded pre-activations, non-linear paths)
// go through NewTargetStats.
//
// The sums are float64, taken about a shift from the first batch so that
// inputs with a large common offset keep their precision, and the solve
// factors the centred covariance, whose conditioning is independent of that
// offset. Each batch's products are by default computed in float32 with
// the kernels package's GEMM (Mixed precision) — more than twenty times
// faster than gonum's float64 Dgemm, at a cost in the loss far below that of
// rounding W̃ to float32 — and Float64 precision is there for checking. For
// the same reason a projection that can be expanded to a dense matrix, as
// rproj's can, is applied to whole batches by GEMM rather than gathered.
//
// A fitted Speculator quantizes its W̃ per row with package quant; INT8 and
// INT4 speculators then predict through the integer GEMV kernels, with Px
// quantized to int8 on each call as in the thesis's Algorithm 2.
//
// In the runtime (package speculate) a fitted spec.Speculator is a
// Speculator; dmi and screen fit their little modules and screeners here.
package spec

// Package synth generates synthetic extreme classifiers and hidden vectors
// for timing and scaling approximate screening (package screen) beyond the
// sizes of the trained models at hand.
//
// # Overview
//
// A trained output layer is not a random matrix: its rows share a
// low-dimensional structure (similar classes point in similar directions),
// its spectrum decays, its row norms are skewed and grow with class
// frequency, and its bias tracks the log prior. Screening exploits exactly
// that structure, so timing it on i.i.d. Gaussian weights would be
// meaningless — a random W has no low-dimensional approximation and its
// softmax over random inputs is flat. The model here is
//
//	W_i = g_i · normalize(u_i·V + σ·e_i),    b_i = c·(log p_i − mean log p),
//
// with latent u_i standard normal in r dimensions; V = diag(√λ)·Q, Q with
// r orthonormal rows and λ_t ∝ t^(−α) summing to 1 (a power-law spectrum:
// "low rank plus noise" without a hard rank); e_i isotropic noise of the
// latent part's expected norm; a Zipf prior p_i ∝ (i+1)^(−s) with classes
// numbered by frequency; and log-normal row norms log g_i = a·zf_i +
// ν·N(0,1), zf_i being the standardized log prior. Hidden vectors are
// drawn to match: a class y from the prior, then
//
//	h = β·(ΠW_y/‖ΠW_y‖ + ρ·ξV + η·ε),
//
// with Π the projection on the latent space, ξ standard normal in it and ε
// isotropic of expected norm 1. The logit of y then stands out by about
// β·g_y, classes near y in the latent space compete through ρ, and η adds
// noise in every direction, which a k < d projection cannot see.
//
// The defaults (Default) are r = d/2, α = 1, σ = 0.5, s = 1, c = 1,
// ν = 0.2, a = 0.1, β = 8, ρ = 0.3, η = 0.5. With them the full
// classifier's mean top-1 probability is about 0.77 at 5000 classes of
// width 128 (TestPeaked logs it): peaked, between a language model's and
// a recommender's, and somewhat overconfident, since the prior-heavy bias
// often outranks the class a vector was drawn for (top-1 = y for about 58%
// of inputs). Calibration, held-out and test vectors are draws with
// different seeds. Everything is seeded: the same Config gives the same
// bits, however many threads generate them.
//
// Config.Half stores W in float16, each row rounded once after it is made:
// the 10M×512 classifier then takes 10 GB instead of 20, which is what
// lets it fit in memory here.
package synth

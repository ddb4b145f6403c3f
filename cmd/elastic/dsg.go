package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/elasticml/elastic/dsg"
)

func newDSG(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dsg",
		Short: "Train and evaluate Fashion-MNIST classifiers (dense baseline of dynamic sparse graph training)",
	}
	cmd.AddCommand(newDSGTrain(stdout, stderr), newDSGEval(stdout), newDSGPlotBench())
	return cmd
}

func newDSGTrain(stdout, stderr io.Writer) *cobra.Command {
	var (
		c          dsg.Config
		model      string
		maxMinutes float64
		ckptMin    float64
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train an MLP, LeNet-5 or VGG-8-like CNN on Fashion-MNIST (dense)",
		Long: `train fits a model to the 60000 Fashion-MNIST training images (Debian package
dataset-fashion-mnist) with SGD and momentum (or Adam) on a cosine schedule,
testing on the 10000 test images after every epoch. A checkpoint goes to --out
after every epoch, every --checkpoint-minutes and when --max-minutes or Ctrl-C
stops the run; --resume continues from it.

--sparsity γ > 0 trains with dynamic sparse graphs (thesis chapter 4, Algorithm
5): every hidden FC and convolution layer estimates its activations in a space
reduced by a sparse random projection (s = 3, k from --eps by the JL rule of
Table A.1), keeps the top (1−γ) of them — by the first image's threshold shared
with the batch, or per image with --select per-sample — and computes, stores and
back-propagates only those; --bn double repeats the mask after BatchNorm, single
does not, none trains the model without BatchNorm. --strategy oracle or random
replaces the search for comparison. --mask channel selects whole output
channels (FC neurons) for the batch (--select first or batch) or per image
(--select per-sample) and runs them as GEMMs over the selected weight rows only.
The test passes run the same search.

The thesis's VGG8 ran on CIFAR-10, which no Debian package ships; vgg8 here is a
quarter-width model of its shape for 28×28 grey images.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := dsg.ParseArch(model)
			if err != nil {
				return fmt.Errorf("--model: %w", err)
			}
			if maxMinutes < 0 || ckptMin < 0 {
				return fmt.Errorf("--max-minutes %v and --checkpoint-minutes %v must not be negative", maxMinutes, ckptMin)
			}
			if c.Out == "" {
				return fmt.Errorf("--out: empty path")
			}
			c.Arch = a
			// Zero means "default" to the library; on the command line it
			// means none.
			if c.Momentum == 0 {
				c.Momentum = -1
			}
			if c.Decay == 0 {
				c.Decay = -1
			}
			ctl := runControl(c.Out, "", maxMinutes, ckptMin, c.LogEvery)
			c.MaxDuration, c.CheckpointEvery = ctl.MaxDuration, ctl.CheckpointEvery
			c.Progress = trainProgress(stderr, &c.LogEvery, dsgLine, dsgBar)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			return printDSGTrain(ctx, stdout, c, asJSON)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&model, "model", "lenet", "model: mlp, lenet or vgg8")
	intFlag(fl, &c.Epochs, "epochs", 10, atLeast(1), "epochs")
	intFlag(fl, &c.Batch, "batch", 128, closed(1, 60000), "images per step")
	floatFlag(fl, &c.LR, "lr", 0.05, above(0), "peak learning rate (cosine-annealed to 0)")
	fl.StringVar(&c.Optimizer, "optimizer", "sgd", "sgd (with momentum) or adam")
	floatFlag(fl, &c.Momentum, "momentum", 0.9, unitLeft(), "SGD momentum")
	floatFlag(fl, &c.Decay, "weight-decay", 5e-4, atLeast(0), "L2 weight decay")
	fl.Uint64Var(&c.Seed, "seed", 1, "seed for initialisation and shuffling")
	floatFlag(fl, &c.Sparsity, "sparsity", 0, unitLeft(), "DSG sparsity γ: the fraction of each hidden layer's outputs dropped (0: dense)")
	dsgFlags(fl, &c.DSG, dsg.BNDouble)
	fl.StringVar(&c.DataDir, "data", "", "directory of the Fashion-MNIST idx files (default /usr/share/datasets/fashion-mnist)")
	fl.StringVar(&c.Out, "out", "dsg.safetensors", "checkpoint file")
	fl.BoolVar(&c.Resume, "resume", false, "continue training from the checkpoint at --out")
	floatFlag(fl, &maxMinutes, "max-minutes", 0, above(0), "stop cleanly with a checkpoint after this many minutes (default: no limit)")
	floatFlag(fl, &ckptMin, "checkpoint-minutes", 5, atLeast(0), "minutes between mid-epoch checkpoints (0: only at epoch ends)")
	intFlag(fl, &c.LogEvery, "log-every", 50, atLeast(1), "steps between progress lines when stderr is not a terminal")
	threadsFlag(fl, &c.Threads)
	fl.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func printDSGTrain(ctx context.Context, w io.Writer, c dsg.Config, asJSON bool) error {
	r, err := dsg.Train(ctx, c)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(w, r)
	}
	fmt.Fprintf(w, "model %s (%d parameters, %.1f M MACs per image forward): %d images in %.0f s\n",
		r.Arch, r.Params, float64(r.MACs)/1e6, r.Images, r.Seconds)
	if d := r.DSG; d != nil {
		fmt.Fprintf(w, "DSG γ=%g: %s search (ε=%g, %.2f M MACs per image), %s selection of %ss, BN %s\n",
			d.Gamma, d.Strategy, d.Eps, float64(r.SearchMACs)/1e6, d.Select, d.Granularity, d.BN)
	}
	for _, e := range r.Epochs {
		fmt.Fprintf(w, "epoch %3d  train loss %.4f acc %.4f  test loss %.4f acc %.4f  %5.0f s\n",
			e.Epoch, e.TrainLoss, e.TrainAccuracy, e.TestLoss, e.TestAccuracy, e.Seconds)
	}
	if r.Stopped {
		fmt.Fprintf(w, "stopped at epoch %d step %d; resume with --resume\n", r.NextEpoch, r.NextStep)
	}
	_, err = fmt.Fprintf(w, "test accuracy %.4f (loss %.4f); checkpoint %s\n", r.TestAccuracy, r.TestLoss, r.Out)
	return err
}

// dsgLine is a report as one line.
func dsgLine(p dsg.Progress) string {
	if p.EpochEnd {
		return fmt.Sprintf("epoch %d/%d done: train loss %.4f acc %.4f, test acc %.4f, %.0f images/s, ETA %s",
			p.Epoch, p.Epochs, p.Loss, p.Accuracy, p.TestAccuracy, p.ImagesPerSec, p.ETA.Round(time.Second))
	}
	return fmt.Sprintf("epoch %d/%d step %d/%d: loss %.4f acc %.4f, lr %.4g, %.0f images/s, ETA %s",
		p.Epoch, p.Epochs, p.Step, p.Steps, p.Loss, p.Accuracy, p.LR, p.ImagesPerSec, p.ETA.Round(time.Second))
}

// dsgBar is the progress bar's state and description of a report.
func dsgBar(p dsg.Progress) (int, int, bool, string) {
	return p.Total, p.Done, p.EpochEnd, fmt.Sprintf("epoch %d/%d loss %.3f acc %.3f %.0f img/s ETA %s",
		p.Epoch, p.Epochs, p.Loss, p.Accuracy, p.ImagesPerSec, p.ETA.Round(time.Second))
}

func newDSGEval(stdout io.Writer) *cobra.Command {
	var (
		model, data string
		threads     int
		asJSON      bool
		gamma       float64
		sp          dsg.Sparse
	)
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Report a checkpoint's Fashion-MNIST test accuracy",
		Long: `eval scores a checkpoint on the 10000 Fashion-MNIST test images, densely or,
with --sparsity γ > 0, with DSG's on-the-fly search as in training (the
projections drawn from the checkpoint's seed). --bn defaults to the
checkpoint's: none for a model trained without BatchNorm, else double.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := dsg.EvaluateFileWith(model, data, threads, gamma, sp)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(stdout, r)
			}
			how := "dense"
			if gamma > 0 {
				how = fmt.Sprintf("DSG γ=%g, %s, ε=%g, %s selection", gamma, sp.Strategy, sp.Eps, sp.Select)
			}
			_, err = fmt.Fprintf(stdout, "%s (%s, %s) on %d test images: accuracy %.4f, loss %.4f\n", r.Model, r.Arch, how, r.Images, r.TestAccuracy, r.TestLoss)
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&model, "model", "dsg.safetensors", "checkpoint file written by dsg train")
	fl.StringVar(&data, "data", "", "directory of the Fashion-MNIST idx files (default /usr/share/datasets/fashion-mnist)")
	threadsFlag(fl, &threads)
	fl.BoolVar(&asJSON, "json", false, "print one JSON object")
	floatFlag(fl, &gamma, "sparsity", 0, unitLeft(), "DSG sparsity γ of the test passes (0: dense)")
	dsgFlags(fl, &sp, "")
	return cmd
}

// dsgFlags adds DSG's options other than γ.
func dsgFlags(fl *pflag.FlagSet, sp *dsg.Sparse, bn string) {
	floatFlag(fl, &sp.Eps, "eps", 0.5, unitOpen(), "JL ε of the dimension-reduction search (smaller: larger k, better estimates)")
	fl.StringVar(&sp.Select, "select", dsg.SelectFirst, "top-k search: first (the first image's threshold, or with --mask channel its channels, shared by the batch), per-sample, or batch (--mask channel: channels ranked over the batch)")
	fl.StringVar(&sp.Granularity, "mask", dsg.GranElement, "mask granularity: element (each window's own neurons, row-by-row executor) or channel (whole output channels per batch or image, GEMM executor)")
	floatFlag(fl, &sp.SearchFraction, "search-fraction", 1, unitRight(), "with --mask channel: fraction of the rows the ranking searches (a stride through them)")
	fl.BoolVar(&sp.ZVC, "zvc", false, "keep the sparse layers' inputs for backward zero-value compressed (bitmask and non-zeros) and rebuild them from that stash")
	fl.StringVar(&sp.BN, "bn", bn, "BatchNorm with DSG: double (mask before and after), single (before only) or none (no BatchNorm)")
	fl.StringVar(&sp.Strategy, "strategy", dsg.StrategyDRS, "activation estimate the selection ranks: drs, oracle (exact, dense) or random")
}

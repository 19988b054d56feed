package job

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/eval"
	"metriclab/losses"
)

// epochOrder returns the sample order of one epoch: P×K batches for losses
// that ask for them, a plain shuffle otherwise.
func epochOrder(dst []int, labels []int, loss core.Loss, batch int, rng *rand.Rand) []int {
	// The identities are those with images to train on: a class may have
	// none (samples' classes of no image).
	seen := make(map[int]bool)
	for _, l := range labels {
		seen[l] = true
	}
	p, k, ok := BatchPK(loss, batch, len(seen))
	if !ok {
		return data.Shuffle(dst, rng)
	}
	// Each group of P·K is cut to one batch.
	group := p * k
	order := dst[:0]
	for len(order) < len(labels)/batch*batch {
		pk := losses.PKOrder(labels, p, k, rng)
		for g := 0; g+group <= len(pk) && len(order) < len(labels)/batch*batch; g += group {
			order = append(order, pk[g:g+batch]...)
		}
	}
	return order
}

// BatchPK returns the P identities of K images each of loss's batches of
// batch images drawn among classes identities, and ok false for a loss
// whose batches are no P×K: P identities of the loss's K images (P =
// batch/K when the loss leaves P to the trainer); with fewer identities
// than P, P is the number of identities and K grows to fill the batch.
// P·K ≥ batch: the P×K images are cut to the batch (epochOrder), the last
// identity's fewer then.
func BatchPK(loss core.Loss, batch, classes int) (p, k int, ok bool) {
	b, ok := loss.(core.Batcher)
	if !ok {
		return 0, 0, false
	}
	p, k, ok = b.NeedsPK()
	if !ok {
		return 0, 0, false
	}
	if p == 0 {
		p = batch / k
	}
	p = max(1, min(p, classes))
	return p, (batch + p - 1) / p, true
}

// HoldOut splits n images off set, stratified by class and deterministic
// for seed, as a validation set; both are copies that keep the order of
// set. With n ≤ 0 or n ≥ set.N, train is set itself and val is empty.
func HoldOut(set *data.Set, n int, seed int64) (train, val *data.Set) {
	if n <= 0 || n >= set.N {
		return set, pick(set, nil)
	}
	tIdx, vIdx := holdOutIndex(set.Labels, n, seed)
	return pick(set, tIdx), pick(set, vIdx)
}

// MinPerIdentity is the size from which a class gives at least 2 images to
// a held-out split (see holdOutIndex): 2 make a genuine pair, and at least
// 3 stay for training.
const MinPerIdentity = 5

// holdOutIndex returns the indices of the images that stay for training
// and of about n held out, both sorted: in a shuffle drawn from seed, the
// first images of each class are held out, ⌊c·n/N⌋ of a class of c images
// but at least 2 when c ≥ MinPerIdentity, so that a folder of a few images
// per identity still has held-out genuine pairs. It needs 0 ≤ n < len(labels).
func holdOutIndex(labels []int, n int, seed int64) (tIdx, vIdx []int) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	perm := data.Shuffle(make([]int, len(labels)), rng)
	counts := make(map[int]int)
	for _, l := range labels {
		counts[l]++
	}
	quota := make(map[int]int, len(counts))
	for l, c := range counts {
		quota[l] = c * n / len(labels)
		if c >= MinPerIdentity {
			quota[l] = max(quota[l], 2)
		}
	}
	for _, i := range perm {
		if l := labels[i]; quota[l] > 0 {
			quota[l]--
			vIdx = append(vIdx, i)
		} else {
			tIdx = append(tIdx, i)
		}
	}
	sort.Ints(tIdx)
	sort.Ints(vIdx)
	return tIdx, vIdx
}

// pick returns the images idx of s as a new set with the same classes.
func pick(s *data.Set, idx []int) *data.Set {
	out := &data.Set{Labels: make([]int, len(idx)), N: len(idx), Input: s.Input, Classes: s.Classes}
	out.X = s.Batch(make([]float32, len(idx)*s.Input.Size()), idx)
	for i, j := range idx {
		out.Labels[i] = s.Labels[j]
	}
	return out
}

// EmbedSet embeds every image of s with the encoder of spec and params, in
// chunks of 256.
func EmbedSet(spec core.Spec, params map[string]core.Tensor, s *data.Set) (eval.Embeddings, error) {
	return EmbedSetProgress(spec, params, s, nil)
}

// EmbedSetProgress is EmbedSet that tells progress, when not nil, the
// images embedded of s.N: 0 before the first chunk, then after each (a
// line drawn while a large set embeds: MNIST's 10,000 test images take
// 35 s with lenetpp).
func EmbedSetProgress(spec core.Spec, params map[string]core.Tensor, s *data.Set, progress func(done, total int)) (eval.Embeddings, error) {
	const chunk = 256
	enc, err := core.NewEncoder(spec, params, chunk)
	if err != nil {
		return eval.Embeddings{}, err
	}
	size, d := spec.Input.Size(), spec.EmbedDim()
	if len(s.X) != s.N*size {
		panic(fmt.Sprintf("job: EmbedSetProgress: %d pixels for %d images of %d", len(s.X), s.N, size))
	}
	x := make([]float32, s.N*d)
	for start := 0; start < s.N; start += chunk {
		if progress != nil {
			progress(start, s.N)
		}
		n := min(chunk, s.N-start)
		got, err := enc.Embed(x[start*d:(start+n)*d], s.X[start*size:(start+n)*size], n)
		if err != nil {
			return eval.Embeddings{}, err
		}
		copy(x[start*d:], got) // got is that part of x: Embed writes into a dst long enough
	}
	if progress != nil {
		progress(s.N, s.N)
	}
	return eval.Embeddings{X: x, N: s.N, D: d, Labels: s.Labels}, nil
}

package eval

import (
	"math/rand/v2"
	"slices"
	"sort"
)

// Pair is one verification pair: rows I < J of an Embeddings, and whether
// they share a label (genuine) or not (impostor).
type Pair struct {
	I, J int
	Same bool
}

// Fold is one fold of a verification protocol: its genuine pairs followed by
// as many impostor pairs.
type Fold struct {
	Pairs []Pair
}

// Pairs draws an LFW-style verification protocol from labels (Huang et al.
// 2007, View 2: 10 folds of 300 genuine and 300 impostor pairs): folds
// folds, each with p genuine pairs (same label) and p impostor pairs
// (different labels), where
//
//	p = min(perFold, ⌊G/folds⌋, ⌊I/folds⌋),
//	G = Σ_c n_c(n_c−1)/2 genuine pairs available, I = N(N−1)/2 − G impostor pairs.
//
// Pairs are unordered (I < J in each Pair), drawn uniformly without
// replacement, and no pair appears twice in the whole protocol. The same
// labels, sizes and seed always give the same pairs, on every platform
// (math/rand/v2 PCG).
//
// When the data is too small for perFold pairs of each kind, every fold gets
// the smaller p (the protocol stays balanced); when p = 0 (say, no class has
// two samples, or only one class exists) Pairs returns nil. Callers that
// need the full size compare len(fold.Pairs) with 2·perFold.
//
// Unlike LFW's folds, the folds here are not identity-disjoint: with few
// classes (MNIST) that is impossible for impostor pairs.
func Pairs(labels []int, folds, perFold int, seed int64) []Fold {
	if folds < 1 || perFold < 1 {
		panic("eval: Pairs needs folds ≥ 1 and perFold ≥ 1")
	}
	n := len(labels)
	members := make(map[int][]int)
	var classes []int
	for i, l := range labels {
		if _, ok := members[l]; !ok {
			classes = append(classes, l)
		}
		members[l] = append(members[l], i)
	}
	slices.Sort(classes)
	var gen int64
	for _, c := range classes {
		m := int64(len(members[c]))
		gen += m * (m - 1) / 2
	}
	imp := int64(n)*int64(n-1)/2 - gen
	p := int64(perFold)
	p = min(p, gen/int64(folds), imp/int64(folds))
	if p <= 0 {
		return nil
	}
	need := int(p) * folds
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))

	genuine := drawGenuine(rng, labels, classes, members, gen, need)
	impostor := drawImpostor(rng, labels, imp, need)

	out := make([]Fold, folds)
	for f := range out {
		ps := make([]Pair, 0, 2*p)
		ps = append(ps, genuine[f*int(p):(f+1)*int(p)]...)
		ps = append(ps, impostor[f*int(p):(f+1)*int(p)]...)
		out[f] = Fold{Pairs: ps}
	}
	return out
}

// pairKey packs an unordered pair i < j.
func pairKey(i, j int) uint64 { return uint64(i)<<32 | uint64(j) }

func orderedPair(i, j int, same bool) Pair {
	if i > j {
		i, j = j, i
	}
	return Pair{I: i, J: j, Same: same}
}

// enumerateLimit bounds the pair lists drawGenuine and drawImpostor build in
// full: below it (or when most pairs are needed) they shuffle all pairs,
// above it they sample with rejection of repeats.
const enumerateLimit = 1 << 16

// drawGenuine draws need distinct same-label pairs out of gen.
func drawGenuine(rng *rand.Rand, labels, classes []int, members map[int][]int, gen int64, need int) []Pair {
	if gen <= enumerateLimit || gen <= 4*int64(need) {
		all := make([]Pair, 0, gen)
		for _, c := range classes {
			idx := members[c]
			for a := 0; a < len(idx); a++ {
				for b := a + 1; b < len(idx); b++ {
					all = append(all, Pair{I: idx[a], J: idx[b], Same: true})
				}
			}
		}
		return partialShuffle(rng, all, need)
	}
	// Class c is chosen with probability n_c(n_c−1)/2 / G, then two distinct
	// members uniformly: each genuine pair is equally likely.
	cum := make([]int64, len(classes))
	var acc int64
	for k, c := range classes {
		m := int64(len(members[c]))
		acc += m * (m - 1) / 2
		cum[k] = acc
	}
	seen := make(map[uint64]bool, need)
	out := make([]Pair, 0, need)
	for len(out) < need {
		r := rng.Int64N(acc)
		k := sort.Search(len(cum), func(k int) bool { return cum[k] > r })
		idx := members[classes[k]]
		a := rng.IntN(len(idx))
		b := rng.IntN(len(idx) - 1)
		if b >= a {
			b++
		}
		pr := orderedPair(idx[a], idx[b], true)
		if key := pairKey(pr.I, pr.J); !seen[key] {
			seen[key] = true
			out = append(out, pr)
		}
	}
	return out
}

// drawImpostor draws need distinct different-label pairs out of imp.
func drawImpostor(rng *rand.Rand, labels []int, imp int64, need int) []Pair {
	n := len(labels)
	if imp <= enumerateLimit || imp <= 4*int64(need) {
		all := make([]Pair, 0, imp)
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				if labels[i] != labels[j] {
					all = append(all, Pair{I: i, J: j})
				}
			}
		}
		return partialShuffle(rng, all, need)
	}
	seen := make(map[uint64]bool, need)
	out := make([]Pair, 0, need)
	for len(out) < need {
		i := rng.IntN(n)
		j := rng.IntN(n - 1)
		if j >= i {
			j++
		}
		if labels[i] == labels[j] {
			continue
		}
		pr := orderedPair(i, j, false)
		if key := pairKey(pr.I, pr.J); !seen[key] {
			seen[key] = true
			out = append(out, pr)
		}
	}
	return out
}

// partialShuffle returns the first k elements of a uniform shuffle of all
// (Fisher–Yates stopped after k steps).
func partialShuffle(rng *rand.Rand, all []Pair, k int) []Pair {
	for i := 0; i < k; i++ {
		j := i + rng.IntN(len(all)-i)
		all[i], all[j] = all[j], all[i]
	}
	return all[:k:k]
}

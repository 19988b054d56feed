package eval

import (
	"cmp"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestRetrievalConstructed: 1-D euclidean, class A at 0, 1, 7 and class B at
// 2.5, 4.2, 30; R = 2 for every query. Top 2 by distance and (P@1, RP, MAP@R):
//
//	A0:   A1 (1), B2.5 (2.5)     → rel 1 0 → (1, ½, ½·1)    = (1, .5, .5)
//	A1:   A0 (1), B2.5 (1.5)     → rel 1 0 → (1, .5, .5)
//	A7:   B4.2 (2.8), B2.5 (4.5) → rel 0 0 → (0, 0, 0)
//	B2.5: A1 (1.5), B4.2 (1.7)   → rel 0 1 → (0, ½, ½·½)    = (0, .5, .25)
//	B4.2: B2.5 (1.7), A7 (2.8)   → rel 1 0 → (1, .5, .5)
//	B30:  A7 (23), B4.2 (25.8)   → rel 0 1 → (0, .5, .25)
//
// Means over 6 queries: P@1 = 3/6, RP = 2.5/6, MAP@R = 2/6.
func TestRetrievalConstructed(t *testing.T) {
	e := line([]float64{0, 1, 7, 2.5, 4.2, 30}, []int{0, 0, 0, 1, 1, 1})
	for _, m := range []Metric{Euclidean{}, slowMetric{Euclidean{}}} {
		rep := Retrieval(e, m)
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"P@1", rep.PrecisionAt1, 3.0 / 6},
			{"R-precision", rep.RPrecision, 2.5 / 6},
			{"MAP@R", rep.MAPAtR, 2.0 / 6},
		} {
			if math.Abs(c.got-c.want) > 1e-12 {
				t.Errorf("%s %s = %v, want %v", m.Name(), c.name, c.got, c.want)
			}
		}
	}
}

// slowMetric hides the type of a metric so that the pair-by-pair path runs.
type slowMetric struct{ Metric }

func TestRetrievalSeparated(t *testing.T) {
	e := clusters(4, 25, 6, 0.5, 2)
	// The last row becomes a singleton class, far from the others: skipped as
	// a query, never in anyone's top R.
	e.Labels[e.N-1] = 99
	for j := range e.Row(e.N - 1) {
		e.X[(e.N-1)*e.D+j] = -10
	}
	rep := Retrieval(e, Cosine{})
	if rep.PrecisionAt1 != 1 || rep.RPrecision != 1 || rep.MAPAtR != 1 {
		t.Errorf("separated: %+v", rep)
	}
}

// retrievalReference ranks every other item by a full sort with Similarity
// calls: score descending, non-relevant first among equal scores; the
// queries are the rows qs (all rows when qs is nil).
func retrievalReference(e Embeddings, m Metric, qs []int) RetrievalReport {
	if qs == nil {
		qs = SampleQueries(e.Labels, 0, 0)
	}
	var rep RetrievalReport
	n := 0
	for _, q := range qs {
		var others []int
		r := 0
		for j := 0; j < e.N; j++ {
			if j != q {
				others = append(others, j)
				if e.Labels[j] == e.Labels[q] {
					r++
				}
			}
		}
		if r == 0 {
			continue
		}
		s := make([]float64, e.N)
		for _, j := range others {
			s[j] = m.Similarity(e.Row(q), e.Row(j))
		}
		rel := func(j int) int {
			if e.Labels[j] == e.Labels[q] {
				return 1
			}
			return 0
		}
		slices.SortStableFunc(others, func(a, b int) int {
			if c := cmp.Compare(s[b], s[a]); c != 0 {
				return c
			}
			return rel(a) - rel(b)
		})
		var hits, ap float64
		for i := 0; i < r; i++ {
			if e.Labels[others[i]] == e.Labels[q] {
				hits++
				ap += hits / float64(i+1)
			}
		}
		if e.Labels[others[0]] == e.Labels[q] {
			rep.PrecisionAt1++
		}
		rep.RPrecision += hits / float64(r)
		rep.MAPAtR += ap / float64(r)
		n++
	}
	if n > 0 {
		rep.PrecisionAt1 /= float64(n)
		rep.RPrecision /= float64(n)
		rep.MAPAtR /= float64(n)
	}
	return rep
}

func TestRetrievalMatchesReference(t *testing.T) {
	e := randomEmbeddings(400, 8, 7, 4)
	got, want := Retrieval(e, Cosine{}), retrievalReference(e, Cosine{}, nil)
	if math.Abs(got.PrecisionAt1-want.PrecisionAt1) > 1e-12 || math.Abs(got.RPrecision-want.RPrecision) > 1e-12 ||
		math.Abs(got.MAPAtR-want.MAPAtR) > 1e-12 {
		t.Errorf("fast %+v, reference %+v", got, want)
	}
	// Random embeddings: about chance (1/7), far from 1.
	if got.PrecisionAt1 > 0.4 {
		t.Errorf("random embeddings retrieve too well: %+v", got)
	}
}

// TestRetrievalTies: integer positions on a line give many exactly tied
// distances; the fast path must break them as the reference does.
func TestRetrievalTies(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	pos := make([]float64, 60)
	labels := make([]int, 60)
	for i := range pos {
		pos[i] = float64(rng.IntN(10))
		labels[i] = rng.IntN(4)
	}
	e := line(pos, labels)
	got, want := Retrieval(e, Euclidean{}), retrievalReference(e, Euclidean{}, nil)
	if math.Abs(got.PrecisionAt1-want.PrecisionAt1) > 1e-12 || math.Abs(got.RPrecision-want.RPrecision) > 1e-12 ||
		math.Abs(got.MAPAtR-want.MAPAtR) > 1e-12 {
		t.Errorf("fast %+v, reference %+v", got, want)
	}
	// Collapsed embeddings (all equal): ties go against the query, and with 3
	// non-relevant items for R = 2 nothing relevant is ranked.
	flat := line([]float64{1, 1, 1, 1, 1, 1}, []int{0, 0, 0, 1, 1, 1})
	if rep := Retrieval(flat, Cosine{}); rep != (RetrievalReport{}) {
		t.Errorf("collapsed: %+v, want zeros", rep)
	}
}

// TestRetrievalWorkers: RetrievalQueries says its report does not depend
// on the number of goroutines (GOMAXPROCS); one, two and seven give the
// same figures to the bit, on tied and on untied scores.
func TestRetrievalWorkers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(29, 1))
	for trial := range 20 {
		var e Embeddings
		if trial%2 == 0 {
			e = gridEmbeddings(rng, 2+rng.IntN(200), 1+rng.IntN(3), 3, 1+rng.IntN(30))
		} else {
			e = randomEmbeddings(2+rng.IntN(200), 1+rng.IntN(8), 1+rng.IntN(30), uint64(trial))
		}
		for _, m := range []Metric{Cosine{}, Euclidean{}} {
			var reps []RetrievalReport
			for _, procs := range []int{1, 2, 7} {
				runtime.GOMAXPROCS(procs)
				reps = append(reps, Retrieval(e, m))
			}
			if reps[0] != reps[1] || reps[0] != reps[2] {
				t.Fatalf("trial %d %s: GOMAXPROCS 1, 2, 7 give %+v", trial, m.Name(), reps)
			}
		}
	}
}

func TestSelectKthLargest(t *testing.T) {
	vals := []float64{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5}
	sorted := slices.Clone(vals)
	slices.SortFunc(sorted, func(a, b float64) int { return cmp.Compare(b, a) })
	for k := 1; k <= len(vals); k++ {
		if got := selectKthLargest(slices.Clone(vals), k); got != sorted[k-1] {
			t.Errorf("k=%d: %v, want %v", k, got, sorted[k-1])
		}
	}
}

func TestSampleQueries(t *testing.T) {
	labels := make([]int, 100)
	for i := range labels {
		labels[i] = i % 10
	}
	// Every class of 10 rows: the draw of the rows themselves, as it was
	// before the rows alone in their class were left out (the figures of
	// --max-queries on such sets stay).
	if q := SampleQueries(labels, 10, 5); !slices.Equal(q, []int{11, 33, 44, 55, 57, 64, 71, 73, 82, 89}) {
		t.Errorf("SampleQueries(100 rows, 10) = %v", q)
	}
	if all := SampleQueries(labels[:5], 0, 5); !slices.Equal(all, []int{0, 1, 2, 3, 4}) {
		t.Errorf("SampleQueries(5 rows, 0) = %v", all)
	}
	// 4 rows of classes 1 and 2 among 40 alone in theirs: a draw of 2
	// rows among all 44 was of singletons 4 times out of 5, and the
	// report on none read 0.
	labels = []int{1, 1, 2, 2}
	for i := range 40 {
		labels = append(labels, 100+i)
	}
	for seed := range int64(50) {
		q := SampleQueries(labels, 2, seed)
		if len(q) != 2 || q[0] == q[1] || q[0] > 3 || q[1] > 3 {
			t.Fatalf("seed %d: queries %v: want 2 of the rows 0-3, whose classes have another row", seed, q)
		}
	}
	if q := SampleQueries(labels, 4, 1); len(q) != len(labels) {
		t.Errorf("as many queries as rows with another of their class: %d rows, want all %d", len(q), len(labels))
	}
}

func BenchmarkRetrieval(b *testing.B) {
	e := randomEmbeddings(10000, 64, 10, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Retrieval(e, Cosine{})
	}
}

// TestRetrievalProgress: Evaluate's Options.Progress is told the queries
// ranked, from 0 up to all of them, and ranking them in chunks to tell it
// changes no figure of the report; Expand's progress is told its rows so,
// and changes no embedding.
func TestRetrievalProgress(t *testing.T) {
	e := randomEmbeddings(53, 4, 5, 3)
	var calls [][2]int
	opt := Options{Seed: 1, PairsPerFold: 5}
	plain := Evaluate(Embeddings{}, e, Cosine{}, opt)
	opt.Progress = func(done, total int) { calls = append(calls, [2]int{done, total}) }
	told := Evaluate(Embeddings{}, e, Cosine{}, opt)
	if !reflect.DeepEqual(plain, told) {
		t.Errorf("with progress %+v, without %+v: want the same report", told, plain)
	}
	// 53 queries in chunks of ⌈53/20⌉ = 3: 0, then 18 chunks.
	if len(calls) != 19 || calls[0] != [2]int{0, 53} || calls[1] != [2]int{3, 53} || calls[18] != [2]int{53, 53} {
		t.Errorf("progress %v: want 0, 3, …, 53 of 53", calls)
	}
	// Expand's rows are told as retrieval's queries, its embeddings the same.
	calls = nil
	if !reflect.DeepEqual(Expand(e, 4, nil), Expand(e, 4, opt.Progress)) {
		t.Error("Expand with progress differs from Expand without")
	}
	if len(calls) != 19 || calls[0] != [2]int{0, 53} || calls[1] != [2]int{3, 53} || calls[18] != [2]int{53, 53} {
		t.Errorf("Expand's progress %v: want 0, 3, …, 53 of 53", calls)
	}
}

// TestRetrievalProgressPreparesOnce: with progress, retrieval prepares
// the database's matrix (normalised, or projected by W: N×D float64s)
// once, as without, not once for each of its twenty reports, which made
// an evaluation on a terminal (eval, openset) 1.6 times as long with
// cosine and 2 to 3 times with a Mahalanobis metric (4000 × 512 on two
// cores: 2.6 s without, 5.8 to 9.0 s with). Measured as the bytes it
// allocates, which the matrices are most of.
func TestRetrievalProgressPreparesOnce(t *testing.T) {
	e := randomEmbeddings(400, 128, 40, 5)
	w := mat.NewDense(128, 128, nil)
	for i := range 128 {
		w.Set(i, i, 1+float64(i%3))
	}
	queries := SampleQueries(e.Labels, 0, 1)
	for _, m := range []Metric{Cosine{}, Mahalanobis{W: w}} {
		allocated := func(progress func(done, total int)) uint64 {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			retrievalQueries(e, m, queries, progress)
			runtime.ReadMemStats(&after)
			return after.TotalAlloc - before.TotalAlloc
		}
		plain, told := allocated(nil), allocated(func(done, total int) {})
		if told > plain+plain/4 {
			t.Errorf("%s: retrieval allocated %d bytes with progress, %d without: want as many", m.Name(), told, plain)
		}
	}
}

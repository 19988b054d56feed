package eval

import (
	"math"
	"strings"
	"testing"
)

// TestConcatMeanCosine: the cosine of two rows of an ensemble is the mean
// of its members' cosines, whatever the members' norms and dimensions.
func TestConcatMeanCosine(t *testing.T) {
	a := randomEmbeddings(12, 5, 3, 1)
	b := randomEmbeddings(12, 9, 3, 2)
	b.Labels = a.Labels
	for i := range b.X {
		b.X[i] *= 7 // another scale: Concat normalises each member
	}
	e, err := Concat([]Embeddings{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if e.N != 12 || e.D != 14 {
		t.Fatalf("ensemble is %d×%d, want 12×14", e.N, e.D)
	}
	for i := range e.N {
		if n := norm64(e.Row(i)); math.Abs(n-1) > 1e-6 {
			t.Fatalf("row %d has norm %g, want 1", i, n)
		}
		for j := range e.N {
			want := (Cosine{}.Similarity(a.Row(i), a.Row(j)) + Cosine{}.Similarity(b.Row(i), b.Row(j))) / 2
			if got := (Cosine{}).Similarity(e.Row(i), e.Row(j)); math.Abs(got-want) > 1e-6 {
				t.Fatalf("cosine of rows %d, %d: %g, want the members' mean %g", i, j, got, want)
			}
		}
	}
}

// TestConcatRefusesOtherImages: members of different images are refused.
func TestConcatRefusesOtherImages(t *testing.T) {
	a := randomEmbeddings(12, 5, 3, 1)
	short := randomEmbeddings(11, 5, 3, 1)
	relabelled := randomEmbeddings(12, 5, 3, 1)
	relabelled.Labels = append([]int(nil), a.Labels...)
	relabelled.Labels[0] = (relabelled.Labels[0] + 1) % 3
	for _, other := range []Embeddings{short, relabelled} {
		if _, err := Concat([]Embeddings{a, other}); err == nil || !strings.Contains(err.Error(), "not the same images") {
			t.Errorf("Concat of other images: err %v", err)
		}
	}
	if _, err := Concat(nil); err == nil {
		t.Error("Concat of no members: no error")
	}
}

package eval

// Report gathers every protocol's outcome for one test set. Its JSON keys
// are a contract with the command line and the server; every value is a
// fraction in [0, 1] except Verification.Threshold (a similarity).
type Report struct {
	ClosedSet      ClosedSetReport      `json:"closed_set"`
	Verification   VerificationReport   `json:"verification"`
	Identification IdentificationReport `json:"identification"`
	Retrieval      RetrievalReport      `json:"retrieval"`
}

// DefaultFolds is the number of verification folds of Options' zero
// value, as LFW's protocol has: Pairs needs as many genuine and impostor
// pairs at least.
const DefaultFolds = 10

// Options sets the sizes of Evaluate's protocols. Zero values take the
// defaults in brackets.
type Options struct {
	Folds        int   // verification folds [DefaultFolds]
	PairsPerFold int   // genuine (and as many impostor) pairs per fold [300]
	Seed         int64 // seed of pairs, gallery split and query subsample [0 is a valid seed]
	MaxQueries   int   // retrieval queries, drawn by SampleQueries; ≤ 0: all
	// Progress, when not nil, is called as retrieval's queries are
	// ranked, with those done and their number, from Evaluate's
	// goroutine: retrieval, an N×N similarity, is most of its time.
	Progress func(done, total int)
}

// Evaluate runs every protocol of the package on test with metric m (the
// classifier head is evaluated separately, by ClassifierAccuracy):
//
//   - ClosedSet.Accuracy: NearestCentre(train, test, m); when train.N = 0
//     the centres come from the gallery of GallerySplit(test, Seed) and the
//     accuracy is over its probes.
//   - Verification: Verification(test, m, Pairs(test.Labels, Folds,
//     PairsPerFold, Seed)) (zero when the labels allow no pair).
//   - Identification: Identification(test, m, Seed); its OpenSet comes from
//     splitting the classes of test: the classes at even positions in label
//     order are enrolled (gallery and known probes as in GallerySplit), every
//     sample of the other classes is an unknown probe
//     (OpenSetIdentification). OpenSet is nil with fewer than 2 classes,
//     and when no enrolled class has a second sample to probe with (its
//     zeros would read as a model that takes every unknown for a known).
//   - Retrieval: RetrievalQueries(test, m, SampleQueries(test.Labels, MaxQueries,
//     Seed)).
func Evaluate(train, test Embeddings, m Metric, opt Options) Report {
	train.check()
	test.check()
	if opt.Folds <= 0 {
		opt.Folds = DefaultFolds
	}
	if opt.PairsPerFold <= 0 {
		opt.PairsPerFold = 300
	}
	var rep Report
	if train.N == 0 {
		rep.ClosedSet.Accuracy = centresFromGallery(test, m, opt.Seed)
	} else {
		rep.ClosedSet.Accuracy = NearestCentre(train, test, m)
	}
	rep.Verification = Verification(test, m, Pairs(test.Labels, opt.Folds, opt.PairsPerFold, opt.Seed))
	rep.Identification = Identification(test, m, opt.Seed)
	rep.Identification.OpenSet = openSetSplit(test, m, opt.Seed)
	rep.Retrieval = retrievalQueries(test, m, SampleQueries(test.Labels, opt.MaxQueries, opt.Seed), opt.Progress)
	return rep
}

// openSetSplit builds Evaluate's open-set protocol (see Evaluate).
func openSetSplit(test Embeddings, m Metric, seed int64) *OpenSetReport {
	labels, _ := test.classes()
	if len(labels) < 2 {
		return nil
	}
	enrolled := make(map[int]bool, len(labels))
	for k := 0; k < len(labels); k += 2 {
		enrolled[labels[k]] = true
	}
	var in, out []int
	for i, l := range test.Labels {
		if enrolled[l] {
			in = append(in, i)
		} else {
			out = append(out, i)
		}
	}
	gallery, known := GallerySplit(test.subset(in), seed)
	if known.N == 0 {
		return nil
	}
	r := OpenSetIdentification(gallery, known, test.subset(out), m)
	return &r
}

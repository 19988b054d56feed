//go:build !js

package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"metriclab/core/msg"
)

// States of a job (msg.JobQueued, …). A job is queued, then running, then
// done, failed or canceled; a job that was running when the server stopped
// is interrupted, and resuming it queues it again.
const (
	StateQueued      = msg.JobQueued
	StateRunning     = msg.JobRunning
	StateDone        = msg.JobDone
	StateFailed      = msg.JobFailed
	StateCanceled    = msg.JobCanceled
	StateInterrupted = msg.JobInterrupted
)

// Job is a training job's row: the wire type msg.Job, which the API
// answers, and what only the server knows.
type Job struct {
	msg.Job
	Client     string `json:"-"` // the submitter's address, for the per-client limit
	Checkpoint string `json:"-"` // path relative to the data directory, "" when none
	// Note is what the job's data set's load skipped (SetNote), which its
	// error gives first once it has ended, apart from the error: what a
	// cancel of the job, interrupted, keeps of it.
	Note string `json:"-"`
}

const jobColumns = "id, client, config, state, step, steps, loss, metrics, model_id, checkpoint, ckpt_step, error, note, created, updated"

// Unreadable is the error of a job whose row's config or metrics cannot
// be decoded (a database edited by hand, or damaged): the job reads as
// failed, with its other columns, so that one such row neither hides the
// others nor stops the server (see Open). Its config reads as empty.
const Unreadable = msg.JobUnreadable

// scanJob reads one row of jobColumns. A row whose JSON columns cannot be
// decoded reads as failed with the error Unreadable, and readable false.
func scanJob(row interface{ Scan(...any) error }) (j Job, readable bool, err error) {
	var config, metrics string
	err = row.Scan(&j.ID, &j.Client, &config, &j.State, &j.Step, &j.Steps, &j.Loss, &metrics, &j.ModelID,
		&j.Checkpoint, &j.CkptStep, &j.Error, &j.Note, &j.Created, &j.Updated)
	if err != nil {
		return Job{}, false, err
	}
	if metrics != "" {
		j.Metrics = new(msg.VerificationSummary)
	}
	if json.Unmarshal([]byte(config), &j.Config) != nil ||
		(metrics != "" && json.Unmarshal([]byte(metrics), j.Metrics) != nil) {
		j.Config, j.Metrics = msg.TrainRequest{}, nil
		j.State, j.Error = StateFailed, Unreadable
		return j, false, nil
	}
	return j, true, nil
}

// CreateJob inserts a queued job of config for client, with steps steps
// in all, unless client already has max queued or running jobs (max ≤ 0:
// no limit), in which case it returns ErrLimit.
func (s *Store) CreateJob(client string, config msg.TrainRequest, steps, max int) (Job, error) {
	raw, err := json.Marshal(config)
	if err != nil {
		return Job{}, err
	}
	t := now()
	j := Job{Job: msg.Job{ID: newID(), Config: config, State: StateQueued, Steps: steps, Created: t, Updated: t}, Client: client}
	err = s.tx(func(tx *sql.Tx) error {
		if err := checkLimit(tx, client, max); err != nil {
			return err
		}
		_, err := tx.Exec("INSERT INTO jobs (id, client, config, state, steps, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
			j.ID, client, string(raw), j.State, steps, t, t)
		return err
	})
	if err != nil {
		return Job{}, err
	}
	return j, nil
}

// ResumeJob queues the interrupted job id again for client, who then
// holds it for the per-client limit, unless client already has max queued
// or running jobs (max ≤ 0: no limit; then ErrLimit), its error and note
// cleared (its run loads its data again). It reports whether
// the job was interrupted (false: it is in another state, or there is
// none).
func (s *Store) ResumeJob(id, client string, max int) (bool, error) {
	ok := false
	err := s.tx(func(tx *sql.Tx) error {
		// A job that is not interrupted (or none) is told as such, not
		// as the client's limit: only a resume that queues a job counts.
		var interrupted int
		if err := tx.QueryRow("SELECT COUNT(*) FROM jobs WHERE id = ? AND state = ?", id, StateInterrupted).Scan(&interrupted); err != nil || interrupted == 0 {
			return err
		}
		if err := checkLimit(tx, client, max); err != nil {
			return err
		}
		res, err := tx.Exec("UPDATE jobs SET state = ?, client = ?, error = '', note = '', updated = ? WHERE id = ? AND state = ?",
			StateQueued, client, now(), id, StateInterrupted)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return err
	})
	return ok, err
}

// CheckLimit returns ErrLimit when client has max jobs queued or running
// (max ≤ 0: no limit): a cheap check before work that a job refused at
// the limit would waste. It does not hold the place: CreateJob and
// ResumeJob check again.
func (s *Store) CheckLimit(client string, max int) error {
	return checkLimit(s.db, client, max)
}

// checkLimit returns ErrLimit when client has max jobs queued or running
// (max ≤ 0: no limit), as q (the database, or a transaction) reads them.
func checkLimit(q interface {
	QueryRow(query string, args ...any) *sql.Row
}, client string, max int) error {
	if max <= 0 {
		return nil
	}
	var n int
	if err := q.QueryRow("SELECT COUNT(*) FROM jobs WHERE client = ? AND state IN (?, ?)",
		client, StateQueued, StateRunning).Scan(&n); err != nil {
		return err
	}
	if n >= max {
		return ErrLimit
	}
	return nil
}

// ErrLimit is CreateJob's error when the client has too many jobs.
var ErrLimit = errors.New("too many jobs")

// Job returns job id, or ErrNotFound.
func (s *Store) Job(id string) (Job, error) {
	j, _, err := scanJob(s.db.QueryRow("SELECT "+jobColumns+" FROM jobs WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, ErrNotFound
	}
	return j, err
}

// Jobs returns every job, oldest first (an unreadable one as failed: see
// Unreadable).
func (s *Store) Jobs() ([]Job, error) {
	return s.queryJobs("SELECT " + jobColumns + " FROM jobs ORDER BY rowid")
}

// Queued returns the queued jobs that can be read, oldest first. (Open
// fails the unreadable ones; one damaged while the server runs stays
// queued, and is not trained, until the next start.)
func (s *Store) Queued() ([]Job, error) {
	jobs, err := s.queryJobs("SELECT "+jobColumns+" FROM jobs WHERE state = ? ORDER BY rowid", StateQueued)
	readable := jobs[:0]
	for _, j := range jobs {
		if j.State == StateQueued {
			readable = append(readable, j)
		}
	}
	return readable, err
}

func (s *Store) queryJobs(query string, args ...any) ([]Job, error) {
	rows, err := s.db.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	jobs := []Job{}
	for rows.Next() {
		j, _, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

// Transition moves job id from one of the states from to state to, and
// reports whether it did (false: the job is in another state). errMsg is
// stored as the job's error ("" clears it). A job that becomes canceled or
// failed cannot be resumed: its checkpoint is removed.
func (s *Store) Transition(id string, from []string, to, errMsg string) (bool, error) {
	return s.transition(id, from, to, "?", errMsg)
}

// CancelWaiting cancels job id if it is queued or interrupted, and
// reports whether it did (false: the job is in another state), its
// checkpoint removed as by Transition. Its error becomes its note if it
// was interrupted (what its data's load skipped, without why it was
// interrupted, which said how to resume it), "" if it was queued
// (ResumeJob cleared the note), taken from the row by the update itself:
// a read before it could miss a run's interruption landing in between.
func (s *Store) CancelWaiting(id string) (bool, error) {
	return s.transition(id, []string{StateQueued, StateInterrupted}, StateCanceled,
		"CASE state WHEN ? THEN note ELSE '' END", StateInterrupted)
}

// transition is Transition with the job's error set to the SQL
// expression errExpr of the row before the update, with errArgs.
func (s *Store) transition(id string, from []string, to, errExpr string, errArgs ...any) (bool, error) {
	if len(from) == 0 {
		panic("store: Transition: no from state")
	}
	ended := endsCheckpoint(to)
	set := "state = ?, error = " + errExpr + ", updated = ?"
	if ended {
		set += ", checkpoint = '', ckpt_step = 0, files = ''"
	}
	args := append([]any{to}, errArgs...)
	args = append(args, now(), id)
	for _, f := range from {
		args = append(args, f)
	}
	res, err := s.db.Exec("UPDATE jobs SET "+set+" WHERE id = ? AND state IN (?"+
		strings.Repeat(", ?", len(from)-1)+")", args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if n == 1 && ended && validID(id) {
		os.Remove(filepath.Join(s.dir, checkpointsDir, id+modelExt))
	}
	return n == 1, err
}

// endsCheckpoint reports whether a job in state has no use for its
// checkpoint: only a queued (resumed), running or interrupted one does.
func endsCheckpoint(state string) bool {
	return state == StateCanceled || state == StateFailed || state == StateDone
}

// WithNote returns a job's note (what its data's load skipped) and
// reason (why it ended so, how a done job ended), "; " between them, as
// one line of at most msg.MaxErrorRunes (msg.ErrorLine), each shortened
// to its share when together they are longer (msg.JoinShortened), as
// the Jobs page shortens it again for a job's row.
func WithNote(note, reason string) string {
	return msg.JoinShortened(msg.MaxErrorRunes, msg.ErrorLine(note), msg.ErrorLine(reason))
}

// Stopped returns the error of a running job that the server's stop
// interrupted, gracefully (the job runner's) or not (a kill, a crash: the
// recovery at Open): its note, then how to resume it, from its checkpoint
// at ckptStep (0: none, from the start). With no note it is "": the Jobs
// page says how to resume a job interrupted without a reason, and a
// reason alone would read as why.
func Stopped(note string, ckptStep int) string {
	if note == "" {
		return ""
	}
	if ckptStep > 0 {
		return WithNote(note, fmt.Sprintf("the server stopped: resume the job to go on from its checkpoint at step %d", ckptStep))
	}
	return WithNote(note, "the server stopped before the job's first checkpoint: resume it to train again from the start")
}

// SetNote records note, what the data set's load of job id skipped (a
// running job's; ResumeJob clears it, the data loaded again).
func (s *Store) SetNote(id, note string) error {
	_, err := s.db.Exec("UPDATE jobs SET note = ? WHERE id = ?", note, id)
	return err
}

// SetJobFiles records files, the images of its data set that job id's
// run loaded from the start (data.Listing), which a run resumed from its
// checkpoint loads again (JobFiles); nil records none. A job that ends
// (done, failed, canceled) drops them with its checkpoint.
func (s *Store) SetJobFiles(id string, files []string) error {
	raw := ""
	if files != nil {
		b, err := json.Marshal(files)
		if err != nil {
			return err
		}
		raw = string(b)
	}
	_, err := s.db.Exec("UPDATE jobs SET files = ? WHERE id = ?", raw, id)
	return err
}

// JobFiles returns the images SetJobFiles recorded of job id, nil for
// none (a job on MNIST, or of a store from before they were recorded).
// They are kept apart from the job's row (Job), which every listing of
// the jobs reads: a data set's images may be thousands.
func (s *Store) JobFiles(id string) ([]string, error) {
	var raw string
	if err := s.db.QueryRow("SELECT files FROM jobs WHERE id = ?", id).Scan(&raw); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	if raw == "" {
		return nil, nil
	}
	var files []string
	if err := json.Unmarshal([]byte(raw), &files); err != nil {
		return nil, fmt.Errorf("store: job %s's files: %w", id, err)
	}
	return files, nil
}

// SetProgress records a running job's step, loss and last verification
// (nil: keep the stored one).
func (s *Store) SetProgress(id string, step, steps int, loss float64, metrics *msg.VerificationSummary) error {
	if metrics == nil {
		_, err := s.db.Exec("UPDATE jobs SET step = ?, steps = ?, loss = ?, updated = ? WHERE id = ?", step, steps, loss, now(), id)
		return err
	}
	raw, err := json.Marshal(metrics)
	if err != nil {
		return err
	}
	_, err = s.db.Exec("UPDATE jobs SET step = ?, steps = ?, loss = ?, metrics = ?, updated = ? WHERE id = ?",
		step, steps, loss, string(raw), now(), id)
	return err
}

// SaveCheckpoint writes job id's checkpoint at step (write fills the file)
// and records it with the job's progress, while the job is running: the
// file replaces the previous checkpoint atomically, within the transaction
// that records it. A job no longer running (canceled, or interrupted)
// gets none, and the checkpoint its row names, if any, is left as it is.
func (s *Store) SaveCheckpoint(id string, step, steps int, loss float64, metrics *msg.VerificationSummary, write func(io.Writer) error) error {
	if !validID(id) {
		panic("store: SaveCheckpoint: bad job id " + id)
	}
	rel := filepath.Join(checkpointsDir, id+modelExt)
	path := filepath.Join(s.dir, rel)
	tmp, err := writeTemp(filepath.Dir(path), filepath.Base(path), write)
	if err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	saved := false
	err = s.tx(func(tx *sql.Tx) error {
		res, err := tx.Exec("UPDATE jobs SET checkpoint = ?, ckpt_step = ? WHERE id = ? AND state = ?", rel, step, id, StateRunning)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // no longer running
		}
		saved = true
		return commit(tmp, path) // it removes tmp when it fails
	})
	if !saved {
		os.Remove(tmp)
	}
	if err != nil || !saved {
		return err
	}
	return s.SetProgress(id, step, steps, loss, metrics)
}

// CheckpointPath returns the path of job id's checkpoint file and its step,
// or "" and 0 when it has none.
func (s *Store) CheckpointPath(j Job) (string, int) {
	if j.Checkpoint == "" {
		return "", 0
	}
	return filepath.Join(s.dir, j.Checkpoint), j.CkptStep
}

// FinishJob registers the model of running job id (write and check as for
// AddModel) and marks the job done with its final step, loss and metrics,
// and note as its error ("" for none: a note on how the run ended), in one
// transaction; then it removes the job's checkpoint. It returns
// ErrConflict when the job is no longer running.
func (s *Store) FinishJob(id, modelName string, step int, loss float64, metrics *msg.VerificationSummary, note string,
	write func(io.Writer) error, check ModelCheck) (Card, error) {
	var rawMetrics string
	if metrics != nil {
		raw, err := json.Marshal(metrics)
		if err != nil {
			return Card{}, err
		}
		rawMetrics = string(raw)
	}
	withMetrics := func(path string) (Card, error) {
		c, err := check(path)
		c.Metrics = metrics
		return c, err
	}
	card, err := s.addModel(modelName, id, write, withMetrics, func(tx *sql.Tx, c Card) error {
		res, err := tx.Exec("UPDATE jobs SET state = ?, step = ?, loss = ?, metrics = ?, model_id = ?, checkpoint = '', ckpt_step = 0, files = '', error = ?, updated = ? WHERE id = ? AND state = ?",
			StateDone, step, loss, rawMetrics, c.ID, note, now(), id, StateRunning)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrConflict
		}
		return nil
	})
	if err != nil {
		return Card{}, err
	}
	os.Remove(filepath.Join(s.dir, checkpointsDir, id+modelExt))
	return card, nil
}

// DeleteJob removes the row of job id once it has ended (done, failed or
// canceled) and reports true; false, and nothing removed, for a job still
// queued, running or interrupted (a cancel's to end first); ErrNotFound
// for none. Its model, a resource of its own, stays, its card naming the
// job it came from (JobID).
func (s *Store) DeleteJob(id string) (bool, error) {
	deleted := false
	var ckpt string
	err := s.tx(func(tx *sql.Tx) error {
		var state string
		err := tx.QueryRow("SELECT state, checkpoint FROM jobs WHERE id = ?", id).Scan(&state, &ckpt)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil || !endsCheckpoint(state) {
			return err
		}
		_, err = tx.Exec("DELETE FROM jobs WHERE id = ?", id)
		deleted = err == nil
		return err
	})
	if deleted && ckpt != "" { // an ended job keeps none; one from before may
		os.Remove(filepath.Join(s.dir, ckpt))
	}
	return deleted, err
}

// Package msg is the wire of metriclab, declared once: the versioned
// message schema shared by the browser trainers, the page, the hypersphere
// viewer and the server's progress stream (msg.go), the types of the
// server's HTTP API (api.go), the rules of the names the page uploads
// (names.go), and the rule that a JSON object gives each key once, which
// the model files' metadata and the API's requests follow (keys.go). With
// them, what the page, the server and the command line read and write
// alike: the windows of an image an encoder sees (crop.go: Crop, the
// named crops, ParseViews), a number typed by a person, read in decimal
// notation alone (decimal.go: ParseDecimal), the training recipes and the
// names their fields take (preset.go, recipe.go), the classroom token
// (token.go), a count for people to read (plural.go), and the names a
// model's file is exported and downloaded as (filename.go). It imports the
// standard library only, so that every binary (page, trainer, viewer,
// server) can use it without the engine.
//
// The trainer's protocol. A page talks to a trainer (a Web Worker running
// wasm/trainer, whose doc details each command) in Messages as JSON
// strings, every one stamped with SchemaVersion and the trainer's id:
//
//	page → trainer   TypeCommand: OpStart (Config, and Samples when
//	                 Config.Data is DataEnrolled; Workers and Worker, with
//	                 MessagePorts in the transfer list, for data-parallel
//	                 training), OpPause, OpResume, OpStep, OpStop, OpReset,
//	                 OpExport, OpLoad (Model, ID; Samples embedded once
//	                 it took), OpEmbed (Samples, ID)
//	trainer ↔ trainer  the data-parallel workers' gradients, over their
//	                 MessagePorts: {step, loss, grad} to worker 0, the mean
//	                 back (binary ArrayBuffers, not Messages)
//	trainer → page   TypeState (the State* of the trainer; StateIdle with
//	                 the command's ID answers an OpLoad without Samples),
//	                 TypeProgress, TypeSnapshot, TypeExport, TypeEmbeddings
//	                 (the answer to OpEmbed, with its ID), TypeError (one
//	                 line, with the command's ID when it refuses an OpEmbed
//	                 or an OpLoad; a failed run then goes to StateFailed)
//	trainer → viewer the same progress, snapshot, state and error messages
//	                 on the BroadcastChannel of Command.Channel
//
// A server job's event stream (GET /api/jobs/{id}/events) carries the
// same progress and snapshot messages, with the job's state in the Job*
// states; a job's TypeError comes after its final state (why it failed
// or was interrupted, how a done job ended), never before it, so that it
// never reads as the failure of a job still running. A running job's
// note on its data (the images its data set's load skipped) is the Error
// of its state JobRunning, sent again once the data is loaded; whatever
// the job's end, its TypeError then gives that note first, then why it
// ended so, "; " between them, each shortened to its share of
// MaxErrorRunes when together they are longer. A reader refuses a
// message of another SchemaVersion. Adding a message type or a command op
// is a change of this package and of its readers: the page's
// (app.Run.Apply, app.JobWatch.Receive) treat an unknown type as an
// error, the viewer's pump ignores what it does not draw, and the trainer
// answers an unknown op with an error.
package msg

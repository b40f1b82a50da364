"""The settings every training run has, each declared once (name, default, type, help, bounds).

Owners: the settings here apply to every run; a cell's options are declared
by the cell (``tf_lstm.cells.registry``), a task's by the task
(``Task.model_options``/``Task.train_options``).  The command-line flags, the
``ModelConfig``/``TrainConfig`` records, their defaults and the run's
``config.json`` are all derived from these declarations
(``tf_lstm.app.config``, ``tf_lstm.app.commands.flagdefs``).

The defaults here are the neutral ones a library caller gets from
``TrainConfig()``; each task overrides some with its best measured
configuration (``Task.defaults``), which the training command applies to the
settings the user does not give.
"""

from tf_lstm.app import optimizers
from tf_lstm.app import schedules
from tf_lstm.cells.registry import Option

# The model shared by every task: a checkpoint resumes only under the same values.
# ``task``'s and ``cell``'s choices are the registered ones (read when flags are defined).
MODEL = (
    Option("task", "mnist", "What to learn.", type=str),
    Option("cell", "lstm", "Recurrent cell.", type=str),
    Option("num_layers", 1, "Stacked cell layers.", lower=1),
    Option("num_units", 128, "Units per layer.", lower=1),
)

# How to train, fixed for a run: a resume with other values is refused, listing them
# (as for MODEL).  The optimizer's slots are in the checkpoint; the data order and the
# step count are in units of batch_size; seed drew the initial weights (already in the
# checkpoint) and orders the data.  A task's own train options (``Task.train_options``:
# augment_shift, dtype, ptb's num_steps and files) are fixed likewise: they shape the
# data stream or the step's numerics.
TRAIN_FIXED = (
    Option("optimizer", "adam", "Optimizer.", choices=sorted(optimizers.OPTIMIZERS)),
    Option("batch_size", 128, "Global batch size.", lower=1),
    Option("seed", 0, "Random seed (weights and data order).", lower=0),
)

# How to train, may change when a run resumes: the new values are used from the resumed
# step on (learning_rate replaces the checkpoint's), and config.json / results.json
# record each segment's values ("segments").
TRAIN_PER_SEGMENT = (
    Option("learning_rate", 1e-3, "Base learning rate.", positive=True),
    Option("lr_schedule", "constant", "Learning-rate multiplier over training.",
           choices=schedules.SCHEDULES),
    Option("lr_decay", 1.0, "lr_schedule epoch_decay: multiply the rate by this each epoch "
           "after lr_decay_epoch.", lower=0.0),
    Option("lr_decay_epoch", 0, "lr_schedule epoch_decay: epochs at the full rate.", lower=0),
    Option("epochs", 1.0, "Training length in epochs (ignored with train_steps).",
           positive=True),
    Option("train_steps", 0, "Training length in steps (0: from epochs).", lower=0),
    Option("eval_every", 0, "Evaluate every N steps (0: at the end only).", lower=0),
    Option("checkpoint_every", 200, "Save a checkpoint every N steps.", lower=1),
    Option("log_every", 50, "Log progress every N steps.", lower=1),
    Option("clip_norm", 0.0, "Clip gradients to this global norm (0: off).", lower=0.0),
)

TRAIN = TRAIN_FIXED + TRAIN_PER_SEGMENT

# Where the run reads and writes, and what it does at the end: may change on resume
# (recorded per segment like TRAIN_PER_SEGMENT).
RUN = (
    Option("data_dir", "", "The task's data directory (mnist: the four IDX files; "
           "default: tensorflow_datasets).", type=str),
    Option("model_dir", "", "Checkpoints, TensorBoard logs, config.json, results.json.",
           type=str),
    Option("export_dir", "", "Write a SavedModel here (next free version).", type=str),
    Option("tflite", False, "With export_dir: also write <version>/model.tflite "
           "(image tasks)."),
    Option("force_export", False, "With export_dir: export even when the run's final step "
           "is already exported there (a finished run re-run)."),
)


# A model setting of several tasks (image tasks, imdb; the CoNLL taggers always are).
BIDIRECTIONAL = Option("bidirectional", False, "A forward and a backward RNN, outputs "
                       "concatenated.")


def by_name(options):
  return {o.name: o for o in options}

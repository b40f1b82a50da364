"""The training application on top of the port library: data, tasks, models,
training, export and the command-line programs (``tf_lstm.app.commands``)."""

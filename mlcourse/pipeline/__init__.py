"""The hybrid pipeline (notebook 08, drill d6): what the lesson and the checks share, never graded.

* ``errors``: the typed errors of the resilient sentiment client (the learner writes the client in d6);
* ``misbehaving``: a fake sentiment API on loopback that answers 429, 503, slowly, drops connections
  and refuses one text, counting in-flight requests and recording every arrival itself;
* ``csvgen``: sentiment CSVs of any size, written in chunks;
* ``protos``: compiles ``course_sentiment.proto`` with grpcio-tools into an ignored folder;
* ``transports``: the same trivial model behind REST, gRPC and the d4 port, and their comparison;
* ``bench``: ``python -m mlcourse.pipeline.bench``, the figures too big for the notebook.
"""

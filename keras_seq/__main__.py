from keras_seq.cli import main

raise SystemExit(main())

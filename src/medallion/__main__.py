from medallion.cli import main

raise SystemExit(main())

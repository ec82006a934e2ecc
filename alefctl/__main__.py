from alefctl.cli import main

main()

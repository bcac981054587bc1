from kapstone.safety_case.cli import main

main()

from examples.demo import main

main()

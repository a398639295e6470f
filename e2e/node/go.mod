// The node tier's own small programs (e2e/cluster): the pod sandbox process and a probe for tests.
// Built static by e2e/bin/build-node and packed into images by e2e/bin/mkimage. Standard library only.
module reflex.io/e2e/node

go 1.24

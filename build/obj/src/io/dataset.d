build/obj/src/io/dataset.o: src/io/dataset.c src/io/dataset.h \
 src/core/error.h
src/io/dataset.h:
src/core/error.h:

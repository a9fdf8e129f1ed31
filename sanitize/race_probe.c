// TSan probe: an unsynchronised counter shared by two threads. Must FAIL under --config=tsan.
#include <pthread.h>
#include <stdio.h>

static long counter;
static void *bump(void *arg) {
  for (int i = 0; i < 100000; i++) counter++;
  return arg;
}
int main(void) {
  pthread_t a, b;
  pthread_create(&a, NULL, bump, NULL);
  pthread_create(&b, NULL, bump, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("counter=%ld\n", counter);
  return 0;
}

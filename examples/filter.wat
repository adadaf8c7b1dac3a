;; filter.wat - a moving-average and spike filter as a Nano service, in
;; WebAssembly text.  examples/filter.c is the same service in C.
;;
;; For every reading on its subscriptions (e.g. sensors/+/temperature) it
;; publishes a cleaned value on filtered/<the rest of the topic>, e.g.
;; sensors/boiler/temperature -> filtered/boiler/temperature:
;;   - the mean of the last 4 accepted readings of that topic;
;;   - a reading more than 5 units from that mean is a spike: it is kept
;;     out of the mean, and the mean is published in its place;
;;   - the 4th far reading in a row is believed (the quantity really
;;     moved): the window starts again from it.
;; Only numbers of quality ok are used; stale and faulty readings are
;; ignored.  The count of readings handled is kept in the key-value store
;; under "seen", so it carries across reloads and restarts.
;;
;;   nanoctl sandbox build --wasm examples/filter.wat -o filter.wasm
;;   nanoctl sandbox load filter filter.wasm --subscribe 'sensors/+/temperature' \
;;           --grant-publish 'filtered/#'
;;
;; Memory map (one 64 KiB page):
;;      0     8 bytes: "seen" as i64, for kv_get/kv_set
;;     32     "seen" (the key)
;;     48     "filtered/"
;;     64     "filter ready"
;;     80     "sensors/"
;;   1024     the inbox, 1024 bytes: topic then payload of each message
;;   2048     the output topic being built
;;   4096     16 slots of 64 bytes, one per topic:
;;              +0 hash (FNV-1a of the topic after "sensors/"; 0 = free)
;;              +4 readings in the window (0..4)   +8 next position
;;              +12 spikes in a row                +16 4 x f64 window
(module
  (import "nano" "publish"  (func $publish (param i32 i32 f64) (result i32)))
  (import "nano" "log"      (func $log (param i32 i32 i32) (result i32)))
  (import "nano" "kv_get"   (func $kv_get (param i32 i32 i32 i32) (result i32)))
  (import "nano" "kv_set"   (func $kv_set (param i32 i32 i32 i32) (result i32)))
  (import "nano" "msg_info" (func $msg_info (result i32)))

  (memory (export "memory") 1)
  (global $seen (mut i64) (i64.const 0))

  (data (i32.const 32) "seen")
  (data (i32.const 48) "filtered/")
  (data (i32.const 64) "filter ready")
  (data (i32.const 80) "sensors/")

  (func (export "nano_inbox") (result i32) (i32.const 1024))
  (func (export "nano_inbox_size") (result i32) (i32.const 1024))

  ;; Restore the count of readings that earlier versions handled.
  (func (export "init") (result i32)
    (if (i32.eq (call $kv_get (i32.const 32) (i32.const 4) (i32.const 0) (i32.const 8))
                (i32.const 8))
      (then (global.set $seen (i64.load (i32.const 0)))))
    (drop (call $log (i32.const 2) (i32.const 64) (i32.const 12)))
    (i32.const 0))

  ;; FNV-1a of [p, p+n); never 0, which marks a free slot.
  (func $hash (param $p i32) (param $n i32) (result i32)
    (local $h i32) (local $end i32)
    (local.set $h (i32.const 0x811c9dc5))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $h (i32.mul (i32.xor (local.get $h) (i32.load8_u (local.get $p)))
                               (i32.const 0x01000193)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (select (local.get $h) (i32.const 1) (local.get $h)))

  ;; The slot of hash h, claiming a free one; 0 when all 16 are taken.
  (func $slot (param $h i32) (result i32)
    (local $s i32)
    (local.set $s (i32.const 4096))
    (block $none
      (loop $next
        (br_if $none (i32.ge_u (local.get $s) (i32.const 5120)))
        (if (i32.eq (i32.load (local.get $s)) (local.get $h))
          (then (return (local.get $s))))
        (if (i32.eqz (i32.load (local.get $s)))
          (then (i32.store (local.get $s) (local.get $h))
                (return (local.get $s))))
        (local.set $s (i32.add (local.get $s) (i32.const 64)))
        (br $next)))
    (i32.const 0))

  ;; Mean of the slot's window (0 when empty).
  (func $mean (param $s i32) (result f64)
    (local $i i32) (local $n i32) (local $sum f64)
    (local.set $n (i32.load offset=4 (local.get $s)))
    (if (i32.eqz (local.get $n)) (then (return (f64.const 0))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sum (f64.add (local.get $sum)
          (f64.load offset=16 (i32.add (local.get $s)
                                       (i32.shl (local.get $i) (i32.const 3))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (f64.div (local.get $sum) (f64.convert_i32_u (local.get $n))))

  (func (export "on_message")
        (param $topic i32) (param $tlen i32) (param $value f64)
        (param $payload i32) (param $plen i32)
    (local $s i32) (local $n i32) (local $pos i32) (local $rest i32) (local $far i32)
    (local $mean f64) (local $out f64)
    ;; a number (type 1) of quality ok (0)
    (if (i32.ne (i32.and (call $msg_info) (i32.const 0xffff)) (i32.const 1))
      (then (return)))
    ;; "sensors/" and at least one more byte
    (if (i32.le_u (local.get $tlen) (i32.const 8)) (then (return)))
    (if (i64.ne (i64.load (local.get $topic)) (i64.load (i32.const 80)))
      (then (return)))
    (local.set $rest (i32.sub (local.get $tlen) (i32.const 8)))
    (local.set $s (call $slot (call $hash (i32.add (local.get $topic) (i32.const 8))
                                          (local.get $rest))))
    (if (i32.eqz (local.get $s)) (then (return)))

    (local.set $n (i32.load offset=4 (local.get $s)))
    (local.set $mean (call $mean (local.get $s)))
    (local.set $far (i32.and (i32.ge_u (local.get $n) (i32.const 1))
                             (f64.gt (f64.abs (f64.sub (local.get $value) (local.get $mean)))
                                     (f64.const 5))))
    (if (i32.and (local.get $far)
                 (i32.lt_u (i32.load offset=12 (local.get $s)) (i32.const 3)))
      (then
        ;; a spike: keep it out of the window, publish the mean instead
        (i32.store offset=12 (local.get $s)
                   (i32.add (i32.load offset=12 (local.get $s)) (i32.const 1)))
        (local.set $out (local.get $mean)))
      (else
        ;; far after 3 spikes: the level really moved, start the window again
        (if (local.get $far)
          (then (local.set $n (i32.const 0))
                (i32.store offset=8 (local.get $s) (i32.const 0))))
        (i32.store offset=12 (local.get $s) (i32.const 0))
        (local.set $pos (i32.load offset=8 (local.get $s)))
        (f64.store offset=16 (i32.add (local.get $s) (i32.shl (local.get $pos) (i32.const 3)))
                   (local.get $value))
        (i32.store offset=8 (local.get $s)
                   (i32.and (i32.add (local.get $pos) (i32.const 1)) (i32.const 3)))
        (i32.store offset=4 (local.get $s)
                   (select (i32.add (local.get $n) (i32.const 1)) (i32.const 4)
                           (i32.lt_u (local.get $n) (i32.const 4))))
        (local.set $out (call $mean (local.get $s)))))

    ;; "filtered/" + the topic after "sensors/"
    (memory.copy (i32.const 2048) (i32.const 48) (i32.const 9))
    (memory.copy (i32.const 2057) (i32.add (local.get $topic) (i32.const 8))
                 (local.get $rest))
    (drop (call $publish (i32.const 2048) (i32.add (local.get $rest) (i32.const 9))
                         (local.get $out)))

    (global.set $seen (i64.add (global.get $seen) (i64.const 1)))
    (i64.store (i32.const 0) (global.get $seen))
    (drop (call $kv_set (i32.const 32) (i32.const 4) (i32.const 0) (i32.const 8))))
)

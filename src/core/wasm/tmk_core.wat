(module
 (type $0 (func (param i32 i32 i32)))
 (type $1 (func (result i32)))
 (type $2 (func))
 (type $3 (func (param i32)))
 (type $4 (func (param i32 i32 i32 i32 i32)))
 (type $5 (func (param i32 i32 i32 i32)))
 (type $6 (func (param v128 i32) (result v128)))
 (type $7 (func (param i32 i32 i32 i32 i32 i32)))
 (type $8 (func (param i64) (result i64)))
 (type $9 (func (param i32 i32)))
 (type $10 (func (param i32) (result i32)))
 (type $11 (func (param i32 i32 i32 i32 i32 i32) (result i32)))
 (type $12 (func (param i32 i32 i32) (result i32)))
 (global $asm/sha1/pendingLen (mut i32) (i32.const 0))
 (global $asm/sha1/totalLen (mut i64) (i64.const 0))
 (global $asm/sha256/pendingLen (mut i32) (i32.const 0))
 (global $asm/sha256/totalLen (mut i64) (i64.const 0))
 (memory $0 3)
 (data $8 (i32.const 71808) ":2*\"\1a\12\n\02<4,$\1c\14\0c\04>6.&\1e\16\0e\06@80( \18\10\0891)!\19\11\t\01;3+#\1b\13\0b\03=5-%\1d\15\r\05?7/\'\1f\17\0f\07")
 (data $9 (i32.const 71872) "(\080\108\18@ \'\07/\0f7\17?\1f&\06.\0e6\16>\1e%\05-\r5\15=\1d$\04,\0c4\14<\1c#\03+\0b3\13;\1b\"\02*\n2\12:\1a!\01)\t1\119\19")
 (data $10 (i32.const 71936) "\10\07\14\15\1d\0c\1c\11\01\0f\17\1a\05\12\1f\n\02\08\18\0e \1b\03\t\13\r\1e\06\16\0b\04\19")
 (data $11 (i32.const 71968) "\0e\04\r\01\02\0f\0b\08\03\n\06\0c\05\t\00\07\00\0f\07\04\0e\02\r\01\n\06\0c\0b\t\05\03\08\04\01\0e\08\r\06\02\0b\0f\0c\t\07\03\n\05\00\0f\0c\08\02\04\t\01\07\05\0b\03\0e\n\00\06\r\0f\01\08\0e\06\0b\03\04\t\07\02\r\0c\00\05\n\03\r\04\07\0f\02\08\0e\0c\00\01\n\06\t\0b\05\00\0e\07\0b\n\04\r\01\05\08\0c\06\t\03\02\0f\r\08\n\01\03\0f\04\02\0b\06\07\0c\00\05\0e\t\n\00\t\0e\06\03\0f\05\01\r\0c\07\0b\04\02\08\r\07\00\t\03\04\06\n\02\08\05\0e\0c\0b\0f\01\r\06\04\t\08\0f\03\00\0b\01\02\0c\05\n\0e\07\01\n\r\00\06\t\08\07\04\0f\0e\03\0b\05\02\0c\07\r\0e\03\00\06\t\n\01\02\08\05\0b\0c\04\0f\r\08\0b\05\06\0f\00\03\04\07\02\0c\01\n\0e\t\n\06\t\00\0c\0b\07\r\0f\01\03\0e\05\02\08\04\03\0f\00\06\n\01\r\08\t\04\05\0b\0c\07\02\0e\02\0c\04\01\07\n\0b\06\08\05\03\0f\r\00\0e\t\0e\0b\02\0c\04\07\r\01\05\00\0f\n\03\t\08\06\04\02\01\0b\n\r\07\08\0f\t\0c\05\06\03\00\0e\0b\08\0c\07\01\0e\02\r\06\0f\00\t\n\04\05\03\0c\01\n\0f\t\02\06\08\00\r\03\04\0e\07\05\0b\n\0f\04\02\07\0c\t\05\06\01\r\0e\00\0b\03\08\t\0e\0f\05\02\08\0c\03\07\00\04\n\01\r\0b\06\04\03\02\0c\t\05\0f\n\0b\0e\01\07\06\00\08\r\04\0b\02\0e\0f\00\08\r\03\0c\t\07\05\n\06\01\r\00\0b\07\04\t\01\n\0e\03\05\0c\02\0f\08\06\01\04\0b\r\0c\03\07\0e\n\0f\06\08\00\05\t\02\06\0b\r\08\01\04\n\07\t\05\00\0f\0e\02\03\0c\r\02\08\04\06\0f\0b\01\n\t\03\0e\05\00\0c\07\01\0f\r\08\n\03\07\04\0c\05\06\0b\00\0e\t\02\07\0b\04\01\t\0c\0e\02\00\06\n\r\0f\03\05\08\02\01\0e\07\04\n\08\r\0f\0c\t\00\03\05\06\0b")
 (data $12 (i32.const 72480) "91)!\19\11\t\01:2*\"\1a\12\n\02;3+#\1b\13\0b\03<4,$?7/\'\1f\17\0f\07>6.&\1e\16\0e\06=5-%\1d\15\r\05\1c\14\0c\04")
 (data $13 (i32.const 72536) "\0e\11\0b\18\01\05\03\1c\0f\06\15\n\17\13\0c\04\1a\08\10\07\1b\14\r\02)4\1f%/7\1e(3-!0,1\'8\"5.*2$\1d ")
 (data $14 (i32.const 72584) "\01\01\02\02\02\02\02\02\01\02\02\02\02\02\02\01")
 (data $15 (i32.const 72608) "\98/\8aB\91D7q\cf\fb\c0\b5\a5\db\b5\e9[\c2V9\f1\11\f1Y\a4\82?\92\d5^\1c\ab\98\aa\07\d8\01[\83\12\be\851$\c3}\0cUt]\ber\fe\b1\de\80\a7\06\dc\9bt\f1\9b\c1\c1i\9b\e4\86G\be\ef\c6\9d\c1\0f\cc\a1\0c$o,\e9-\aa\84tJ\dc\a9\b0\\\da\88\f9vRQ>\98m\c61\a8\c8\'\03\b0\c7\7fY\bf\f3\0b\e0\c6G\91\a7\d5Qc\ca\06g))\14\85\n\b7\'8!\1b.\fcm,M\13\r8STs\ne\bb\njv.\c9\c2\81\85,r\92\a1\e8\bf\a2Kf\1a\a8p\8bK\c2\a3Ql\c7\19\e8\92\d1$\06\99\d6\855\0e\f4p\a0j\10\16\c1\a4\19\08l7\1eLwH\'\b5\bc\b04\b3\0c\1c9J\aa\d8NO\ca\9c[\f3o.h\ee\82\8ftoc\a5x\14x\c8\84\08\02\c7\8c\fa\ff\be\90\eblP\a4\f7\a3\f9\be\f2xq\c6")
 (data $16 (i32.const 72864) "g\e6\tj\85\aeg\bbr\f3n<:\f5O\a5\7fR\0eQ\8ch\05\9b\ab\d9\83\1f\19\cd\e0[")
 (data $17 (i32.const 72896) "\01#Eg\89\ab\cd\ef\fe\dc\ba\98vT2\10\f0\e1\d2\c3")
 (export "ioPtr" (func $asm/index/ioPtr))
 (export "ioSize" (func $asm/index/ioSize))
 (export "keyPtr" (func $asm/index/keyPtr))
 (export "ivPtr" (func $asm/index/ivPtr))
 (export "aesKeyPtr" (func $asm/index/aesKeyPtr))
 (export "aesIvPtr" (func $asm/index/aesIvPtr))
 (export "digestPtr" (func $asm/index/digestPtr))
 (export "bnPtr" (func $asm/index/bnPtr))
 (export "bnSlotSize" (func $asm/index/bnSlotSize))
 (export "bnOutPtr" (func $asm/index/bnOutPtr))
 (export "tdesCbc" (func $asm/tdes/tdesCbc))
 (export "tdesEcb" (func $asm/tdes/tdesEcb))
 (export "aesCbc" (func $asm/aes/aesCbc))
 (export "aesEcb" (func $asm/aes/aesEcb))
 (export "sha1" (func $asm/sha1/sha1))
 (export "sha1Final" (func $asm/sha1/sha1Final))
 (export "sha1Init" (func $asm/sha1/sha1Init))
 (export "sha1Update" (func $asm/sha1/sha1Update))
 (export "sha1Wipe" (func $asm/sha1/sha1Wipe))
 (export "sha256" (func $asm/sha256/sha256))
 (export "sha256Final" (func $asm/sha256/sha256Final))
 (export "sha256Init" (func $asm/sha256/sha256Init))
 (export "sha256Update" (func $asm/sha256/sha256Update))
 (export "sha256Wipe" (func $asm/sha256/sha256Wipe))
 (export "bnWipe" (func $asm/modexp/bnWipe))
 (export "modPow" (func $asm/modexp/modPow))
 (export "rsaPrivate" (func $asm/rsa/rsaPrivate))
 (export "memory" (memory $0))
 (start $~start)
 (func $asm/modexp/montMul (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32) (param $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 v128)
  (local $11 v128)
  (local $12 i64)
  (local $13 i32)
  (local $14 i32)
  loop $for-loop|0
   local.get $4
   local.get $9
   i32.gt_s
   if
    local.get $9
    i32.const 2
    i32.shl
    i32.const 142976
    i32.add
    local.get $2
    local.get $4
    i32.const 1
    i32.sub
    local.get $9
    i32.sub
    i32.const 2
    i32.shl
    i32.add
    i32.load
    i32.store
    local.get $9
    i32.const 1
    i32.add
    local.set $9
    br $for-loop|0
   end
  end
  i32.const 0
  local.set $2
  loop $for-loop|00
   local.get $2
   local.get $4
   i32.lt_s
   if
    local.get $2
    i32.const 2
    i32.shl
    i32.const 143600
    i32.add
    local.get $3
    local.get $4
    i32.const 1
    i32.sub
    local.get $2
    i32.sub
    i32.const 2
    i32.shl
    i32.add
    i32.load
    i32.store
    local.get $2
    i32.const 1
    i32.add
    local.set $2
    br $for-loop|00
   end
  end
  i32.const 0
  local.set $2
  loop $for-loop|03
   local.get $2
   local.get $4
   i32.lt_s
   if
    local.get $1
    local.set $9
    local.get $4
    i32.const 1
    i32.sub
    local.get $2
    i32.sub
    i32.const 2
    i32.shl
    local.tee $6
    i32.const 142976
    i32.add
    local.set $14
    i32.const 141728
    local.set $13
    local.get $6
    i32.const 143600
    i32.add
    local.set $8
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    local.set $10
    i32.const 0
    local.set $7
    loop $for-loop|1
     local.get $7
     i32.const 4
     i32.add
     local.tee $6
     local.get $2
     i32.le_s
     if
      local.get $10
      local.get $9
      v128.load
      local.tee $11
      local.get $14
      v128.load
      local.tee $10
      i64x2.extmul_low_i32x4_u
      i64x2.add
      local.get $11
      local.get $10
      i64x2.extmul_high_i32x4_u
      i64x2.add
      local.get $13
      v128.load
      local.tee $11
      local.get $8
      v128.load
      local.tee $10
      i64x2.extmul_low_i32x4_u
      i64x2.add
      local.get $11
      local.get $10
      i64x2.extmul_high_i32x4_u
      i64x2.add
      local.set $10
      local.get $9
      i32.const 16
      i32.add
      local.set $9
      local.get $14
      i32.const 16
      i32.add
      local.set $14
      local.get $13
      i32.const 16
      i32.add
      local.set $13
      local.get $8
      i32.const 16
      i32.add
      local.set $8
      local.get $6
      local.set $7
      br $for-loop|1
     end
    end
    local.get $12
    local.get $10
    i64x2.extract_lane 0
    local.get $10
    i64x2.extract_lane 1
    i64.add
    i64.add
    local.set $12
    loop $for-loop|2
     local.get $2
     local.get $7
     i32.gt_s
     if
      local.get $12
      local.get $9
      i64.load32_u
      local.get $14
      i64.load32_u
      i64.mul
      local.get $13
      i64.load32_u
      local.get $8
      i64.load32_u
      i64.mul
      i64.add
      i64.add
      local.set $12
      local.get $9
      i32.const 4
      i32.add
      local.set $9
      local.get $14
      i32.const 4
      i32.add
      local.set $14
      local.get $13
      i32.const 4
      i32.add
      local.set $13
      local.get $8
      i32.const 4
      i32.add
      local.set $8
      local.get $7
      i32.const 1
      i32.add
      local.set $7
      br $for-loop|2
     end
    end
    local.get $2
    i32.const 2
    i32.shl
    local.tee $7
    local.get $1
    i32.add
    i64.load32_u
    local.get $4
    i32.const 2
    i32.shl
    i32.const 142972
    i32.add
    i64.load32_u
    i64.mul
    local.get $12
    i64.add
    local.tee $12
    i32.wrap_i64
    local.get $5
    i32.mul
    i32.const 134217727
    i32.and
    local.set $6
    local.get $7
    i32.const 141728
    i32.add
    local.get $6
    i32.store
    local.get $12
    local.get $3
    i64.load32_u
    local.get $6
    i64.extend_i32_u
    i64.mul
    i64.add
    i64.const 27
    i64.shr_u
    local.set $12
    local.get $2
    i32.const 1
    i32.add
    local.set $2
    br $for-loop|03
   end
  end
  local.get $4
  local.set $2
  loop $for-loop|3
   local.get $2
   local.get $4
   i32.const 1
   i32.shl
   i32.const 1
   i32.sub
   i32.lt_s
   if
    local.get $2
    local.get $4
    i32.sub
    i32.const 1
    i32.add
    local.tee $7
    i32.const 2
    i32.shl
    local.tee $6
    local.get $1
    i32.add
    local.set $5
    i32.const 142976
    local.set $9
    local.get $6
    i32.const 141728
    i32.add
    local.set $14
    i32.const 143600
    local.set $13
    local.get $4
    local.get $7
    i32.sub
    local.set $7
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    local.set $10
    i32.const 0
    local.set $8
    loop $for-loop|4
     local.get $8
     i32.const 4
     i32.add
     local.tee $6
     local.get $7
     i32.le_s
     if
      local.get $10
      local.get $5
      v128.load
      local.tee $11
      local.get $9
      v128.load
      local.tee $10
      i64x2.extmul_low_i32x4_u
      i64x2.add
      local.get $11
      local.get $10
      i64x2.extmul_high_i32x4_u
      i64x2.add
      local.get $14
      v128.load
      local.tee $11
      local.get $13
      v128.load
      local.tee $10
      i64x2.extmul_low_i32x4_u
      i64x2.add
      local.get $11
      local.get $10
      i64x2.extmul_high_i32x4_u
      i64x2.add
      local.set $10
      local.get $5
      i32.const 16
      i32.add
      local.set $5
      local.get $9
      i32.const 16
      i32.add
      local.set $9
      local.get $14
      i32.const 16
      i32.add
      local.set $14
      local.get $13
      i32.const 16
      i32.add
      local.set $13
      local.get $6
      local.set $8
      br $for-loop|4
     end
    end
    local.get $12
    local.get $10
    i64x2.extract_lane 0
    local.get $10
    i64x2.extract_lane 1
    i64.add
    i64.add
    local.set $12
    loop $for-loop|5
     local.get $7
     local.get $8
     i32.gt_s
     if
      local.get $12
      local.get $5
      i64.load32_u
      local.get $9
      i64.load32_u
      i64.mul
      local.get $14
      i64.load32_u
      local.get $13
      i64.load32_u
      i64.mul
      i64.add
      i64.add
      local.set $12
      local.get $5
      i32.const 4
      i32.add
      local.set $5
      local.get $9
      i32.const 4
      i32.add
      local.set $9
      local.get $14
      i32.const 4
      i32.add
      local.set $14
      local.get $13
      i32.const 4
      i32.add
      local.set $13
      local.get $8
      i32.const 1
      i32.add
      local.set $8
      br $for-loop|5
     end
    end
    local.get $2
    local.get $4
    i32.sub
    i32.const 2
    i32.shl
    i32.const 141104
    i32.add
    local.get $12
    i32.wrap_i64
    i32.const 134217727
    i32.and
    i32.store
    local.get $12
    i64.const 27
    i64.shr_u
    local.set $12
    local.get $2
    i32.const 1
    i32.add
    local.set $2
    br $for-loop|3
   end
  end
  local.get $4
  i32.const 2
  i32.shl
  local.tee $1
  i32.const 141100
  i32.add
  local.get $12
  i32.wrap_i64
  i32.const 134217727
  i32.and
  i32.store
  local.get $1
  i32.const 141104
  i32.add
  local.tee $1
  local.get $12
  i64.const 27
  i64.shr_u
  i64.store32
  local.get $0
  i32.const 141104
  local.get $1
  i32.load
  local.get $3
  local.get $4
  call $asm/modexp/reduceOnce
 )
 (func $asm/tdes/desSchedule (param $0 i32) (param $1 i32) (param $2 i32)
  (local $3 i32)
  (local $4 i64)
  (local $5 i32)
  (local $6 i32)
  (local $7 i64)
  (local $8 i32)
  loop $for-loop|0
   local.get $3
   i32.const 8
   i32.lt_s
   if
    local.get $4
    local.get $0
    local.get $3
    i32.add
    i32.load8_u
    local.get $3
    i32.const 8
    i32.shl
    i32.or
    i32.const 3
    i32.shl
    i32.const 107744
    i32.add
    i64.load
    i64.or
    local.set $4
    local.get $3
    i32.const 1
    i32.add
    local.set $3
    br $for-loop|0
   end
  end
  local.get $4
  i64.const 28
  i64.shr_u
  i32.wrap_i64
  local.set $5
  local.get $4
  i32.wrap_i64
  i32.const 268435455
  i32.and
  local.set $6
  i32.const 0
  local.set $0
  loop $for-loop|1
   local.get $0
   i32.const 16
   i32.lt_s
   if
    i32.const 28
    local.get $0
    i32.const 72584
    i32.add
    i32.load8_u
    local.tee $3
    i32.sub
    local.set $8
    local.get $6
    local.get $3
    i32.shl
    local.get $6
    local.get $8
    i32.shr_u
    i32.or
    i32.const 268435455
    i32.and
    local.tee $6
    i64.extend_i32_u
    local.get $5
    local.get $3
    i32.shl
    local.get $5
    local.get $8
    i32.shr_u
    i32.or
    i32.const 268435455
    i32.and
    local.tee $5
    i64.extend_i32_u
    i64.const 28
    i64.shl
    i64.or
    local.set $7
    i64.const 0
    local.set $4
    i32.const 0
    local.set $3
    loop $for-loop|2
     local.get $3
     i32.const 8
     i32.lt_s
     if
      local.get $4
      local.get $7
      i64.const 49
      local.get $3
      i64.extend_i32_s
      i64.const 7
      i64.mul
      i64.sub
      i64.shr_u
      i32.wrap_i64
      i32.const 127
      i32.and
      local.get $3
      i32.const 7
      i32.shl
      i32.or
      i32.const 3
      i32.shl
      i32.const 124128
      i32.add
      i64.load
      i64.or
      local.set $4
      local.get $3
      i32.const 1
      i32.add
      local.set $3
      br $for-loop|2
     end
    end
    local.get $1
    i32.const 15
    local.get $0
    i32.sub
    local.get $0
    local.get $2
    select
    i32.const 3
    i32.shl
    i32.add
    local.get $4
    i64.store
    local.get $0
    i32.const 1
    i32.add
    local.set $0
    br $for-loop|1
   end
  end
 )
 (func $asm/modexp/bytesToDigits (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32)
  (local $4 i32)
  (local $5 i64)
  (local $6 i32)
  local.get $0
  i32.const 0
  local.get $3
  i32.const 2
  i32.shl
  memory.fill
  local.get $2
  i32.const 1
  i32.sub
  local.set $2
  loop $for-loop|0
   local.get $3
   local.get $4
   i32.gt_s
   local.get $2
   i32.const 0
   i32.ge_s
   i32.and
   if
    local.get $5
    local.get $1
    local.get $2
    i32.add
    i64.load8_u
    local.get $6
    i64.extend_i32_s
    i64.shl
    i64.or
    local.set $5
    local.get $6
    i32.const 8
    i32.add
    local.tee $6
    i32.const 27
    i32.ge_s
    if
     local.get $0
     local.get $4
     i32.const 2
     i32.shl
     i32.add
     local.get $5
     i32.wrap_i64
     i32.const 134217727
     i32.and
     i32.store
     local.get $5
     i64.const 27
     i64.shr_u
     local.set $5
     local.get $6
     i32.const 27
     i32.sub
     local.set $6
     local.get $4
     i32.const 1
     i32.add
     local.set $4
    end
    local.get $2
    i32.const 1
    i32.sub
    local.set $2
    br $for-loop|0
   end
  end
  local.get $3
  local.get $4
  i32.gt_s
  if
   local.get $0
   local.get $4
   i32.const 2
   i32.shl
   i32.add
   local.get $5
   i64.store32
  end
 )
 (func $asm/sha256/compress (param $0 i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 i32)
  (local $11 i32)
  (local $12 i32)
  (local $13 i32)
  (local $14 i32)
  (local $15 i32)
  (local $16 i32)
  (local $17 i32)
  (local $18 i32)
  (local $19 i32)
  (local $20 i32)
  (local $21 i32)
  (local $22 i32)
  (local $23 i32)
  (local $24 i32)
  (local $25 i32)
  (local $26 i32)
  (local $27 i32)
  (local $28 i32)
  local.get $0
  i32.load
  local.tee $1
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $1
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  local.set $9
  local.get $0
  i32.load offset=4
  local.tee $1
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $1
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  local.set $10
  local.get $0
  i32.load offset=8
  local.tee $1
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $1
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  local.set $11
  local.get $0
  i32.load offset=12
  local.tee $1
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $1
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  local.set $12
  local.get $0
  i32.load offset=16
  local.tee $1
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $1
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  local.set $13
  local.get $0
  i32.load offset=20
  local.tee $1
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $1
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  local.set $14
  local.get $0
  i32.load offset=24
  local.tee $1
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $1
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  local.set $15
  local.get $0
  i32.load offset=28
  local.tee $1
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $1
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  local.set $16
  local.get $0
  i32.load offset=32
  local.tee $1
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $1
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  local.set $17
  local.get $0
  i32.load offset=36
  local.tee $1
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $1
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  local.set $18
  local.get $0
  i32.load offset=40
  local.tee $1
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $1
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  local.set $19
  local.get $0
  i32.load offset=44
  local.tee $1
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $1
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  local.set $20
  local.get $0
  i32.load offset=48
  local.tee $1
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $1
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  local.set $21
  local.get $0
  i32.load offset=52
  local.tee $1
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $1
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  local.set $22
  local.get $0
  i32.load offset=56
  local.tee $1
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $1
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  local.set $23
  local.get $0
  i32.load offset=60
  local.tee $0
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $0
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  local.set $1
  i32.const 133872
  i32.load
  local.set $0
  i32.const 133876
  i32.load
  local.set $2
  i32.const 133880
  i32.load
  local.set $3
  i32.const 133884
  i32.load
  local.set $8
  i32.const 133888
  i32.load
  local.set $4
  i32.const 133892
  i32.load
  local.set $6
  i32.const 133896
  i32.load
  local.set $7
  i32.const 133900
  i32.load
  local.set $5
  loop $for-loop|0
   local.get $24
   i32.const 64
   i32.lt_s
   if
    local.get $24
    i32.const 0
    i32.gt_s
    if
     local.get $9
     local.get $23
     i32.const 17
     i32.rotr
     local.get $23
     i32.const 19
     i32.rotr
     i32.xor
     local.get $23
     i32.const 10
     i32.shr_u
     i32.xor
     local.get $18
     i32.add
     local.get $10
     i32.const 7
     i32.rotr
     local.get $10
     i32.const 18
     i32.rotr
     i32.xor
     local.get $10
     i32.const 3
     i32.shr_u
     i32.xor
     i32.add
     i32.add
     local.set $9
     local.get $10
     local.get $1
     i32.const 17
     i32.rotr
     local.get $1
     i32.const 19
     i32.rotr
     i32.xor
     local.get $1
     i32.const 10
     i32.shr_u
     i32.xor
     local.get $19
     i32.add
     local.get $11
     i32.const 7
     i32.rotr
     local.get $11
     i32.const 18
     i32.rotr
     i32.xor
     local.get $11
     i32.const 3
     i32.shr_u
     i32.xor
     i32.add
     i32.add
     local.set $10
     local.get $11
     local.get $9
     i32.const 17
     i32.rotr
     local.get $9
     i32.const 19
     i32.rotr
     i32.xor
     local.get $9
     i32.const 10
     i32.shr_u
     i32.xor
     local.get $20
     i32.add
     local.get $12
     i32.const 7
     i32.rotr
     local.get $12
     i32.const 18
     i32.rotr
     i32.xor
     local.get $12
     i32.const 3
     i32.shr_u
     i32.xor
     i32.add
     i32.add
     local.set $11
     local.get $12
     local.get $10
     i32.const 17
     i32.rotr
     local.get $10
     i32.const 19
     i32.rotr
     i32.xor
     local.get $10
     i32.const 10
     i32.shr_u
     i32.xor
     local.get $21
     i32.add
     local.get $13
     i32.const 7
     i32.rotr
     local.get $13
     i32.const 18
     i32.rotr
     i32.xor
     local.get $13
     i32.const 3
     i32.shr_u
     i32.xor
     i32.add
     i32.add
     local.set $12
     local.get $13
     local.get $11
     i32.const 17
     i32.rotr
     local.get $11
     i32.const 19
     i32.rotr
     i32.xor
     local.get $11
     i32.const 10
     i32.shr_u
     i32.xor
     local.get $22
     i32.add
     local.get $14
     i32.const 7
     i32.rotr
     local.get $14
     i32.const 18
     i32.rotr
     i32.xor
     local.get $14
     i32.const 3
     i32.shr_u
     i32.xor
     i32.add
     i32.add
     local.set $13
     local.get $14
     local.get $12
     i32.const 17
     i32.rotr
     local.get $12
     i32.const 19
     i32.rotr
     i32.xor
     local.get $12
     i32.const 10
     i32.shr_u
     i32.xor
     local.get $23
     i32.add
     local.get $15
     i32.const 7
     i32.rotr
     local.get $15
     i32.const 18
     i32.rotr
     i32.xor
     local.get $15
     i32.const 3
     i32.shr_u
     i32.xor
     i32.add
     i32.add
     local.set $14
     local.get $15
     local.get $13
     i32.const 17
     i32.rotr
     local.get $13
     i32.const 19
     i32.rotr
     i32.xor
     local.get $13
     i32.const 10
     i32.shr_u
     i32.xor
     local.get $1
     i32.add
     local.get $16
     i32.const 7
     i32.rotr
     local.get $16
     i32.const 18
     i32.rotr
     i32.xor
     local.get $16
     i32.const 3
     i32.shr_u
     i32.xor
     i32.add
     i32.add
     local.set $15
     local.get $16
     local.get $14
     i32.const 17
     i32.rotr
     local.get $14
     i32.const 19
     i32.rotr
     i32.xor
     local.get $14
     i32.const 10
     i32.shr_u
     i32.xor
     local.get $9
     i32.add
     local.get $17
     i32.const 7
     i32.rotr
     local.get $17
     i32.const 18
     i32.rotr
     i32.xor
     local.get $17
     i32.const 3
     i32.shr_u
     i32.xor
     i32.add
     i32.add
     local.set $16
     local.get $17
     local.get $15
     i32.const 17
     i32.rotr
     local.get $15
     i32.const 19
     i32.rotr
     i32.xor
     local.get $15
     i32.const 10
     i32.shr_u
     i32.xor
     local.get $10
     i32.add
     local.get $18
     i32.const 7
     i32.rotr
     local.get $18
     i32.const 18
     i32.rotr
     i32.xor
     local.get $18
     i32.const 3
     i32.shr_u
     i32.xor
     i32.add
     i32.add
     local.set $17
     local.get $18
     local.get $16
     i32.const 17
     i32.rotr
     local.get $16
     i32.const 19
     i32.rotr
     i32.xor
     local.get $16
     i32.const 10
     i32.shr_u
     i32.xor
     local.get $11
     i32.add
     local.get $19
     i32.const 7
     i32.rotr
     local.get $19
     i32.const 18
     i32.rotr
     i32.xor
     local.get $19
     i32.const 3
     i32.shr_u
     i32.xor
     i32.add
     i32.add
     local.set $18
     local.get $19
     local.get $17
     i32.const 17
     i32.rotr
     local.get $17
     i32.const 19
     i32.rotr
     i32.xor
     local.get $17
     i32.const 10
     i32.shr_u
     i32.xor
     local.get $12
     i32.add
     local.get $20
     i32.const 7
     i32.rotr
     local.get $20
     i32.const 18
     i32.rotr
     i32.xor
     local.get $20
     i32.const 3
     i32.shr_u
     i32.xor
     i32.add
     i32.add
     local.set $19
     local.get $20
     local.get $18
     i32.const 17
     i32.rotr
     local.get $18
     i32.const 19
     i32.rotr
     i32.xor
     local.get $18
     i32.const 10
     i32.shr_u
     i32.xor
     local.get $13
     i32.add
     local.get $21
     i32.const 7
     i32.rotr
     local.get $21
     i32.const 18
     i32.rotr
     i32.xor
     local.get $21
     i32.const 3
     i32.shr_u
     i32.xor
     i32.add
     i32.add
     local.set $20
     local.get $21
     local.get $19
     i32.const 17
     i32.rotr
     local.get $19
     i32.const 19
     i32.rotr
     i32.xor
     local.get $19
     i32.const 10
     i32.shr_u
     i32.xor
     local.get $14
     i32.add
     local.get $22
     i32.const 7
     i32.rotr
     local.get $22
     i32.const 18
     i32.rotr
     i32.xor
     local.get $22
     i32.const 3
     i32.shr_u
     i32.xor
     i32.add
     i32.add
     local.set $21
     local.get $22
     local.get $20
     i32.const 17
     i32.rotr
     local.get $20
     i32.const 19
     i32.rotr
     i32.xor
     local.get $20
     i32.const 10
     i32.shr_u
     i32.xor
     local.get $15
     i32.add
     local.get $23
     i32.const 7
     i32.rotr
     local.get $23
     i32.const 18
     i32.rotr
     i32.xor
     local.get $23
     i32.const 3
     i32.shr_u
     i32.xor
     i32.add
     i32.add
     local.set $22
     local.get $23
     local.get $21
     i32.const 17
     i32.rotr
     local.get $21
     i32.const 19
     i32.rotr
     i32.xor
     local.get $21
     i32.const 10
     i32.shr_u
     i32.xor
     local.get $16
     i32.add
     local.get $1
     i32.const 7
     i32.rotr
     local.get $1
     i32.const 18
     i32.rotr
     i32.xor
     local.get $1
     i32.const 3
     i32.shr_u
     i32.xor
     i32.add
     i32.add
     local.set $23
     local.get $1
     local.get $22
     i32.const 17
     i32.rotr
     local.get $22
     i32.const 19
     i32.rotr
     i32.xor
     local.get $22
     i32.const 10
     i32.shr_u
     i32.xor
     local.get $17
     i32.add
     local.get $9
     i32.const 7
     i32.rotr
     local.get $9
     i32.const 18
     i32.rotr
     i32.xor
     local.get $9
     i32.const 3
     i32.shr_u
     i32.xor
     i32.add
     i32.add
     local.set $1
    end
    local.get $5
    local.get $24
    i32.const 2
    i32.shl
    i32.const 72608
    i32.add
    local.tee $5
    i32.load
    local.get $4
    i32.const 6
    i32.rotr
    local.get $4
    i32.const 11
    i32.rotr
    i32.xor
    local.get $4
    i32.const 25
    i32.rotr
    i32.xor
    local.get $7
    local.get $4
    local.get $6
    local.get $7
    i32.xor
    i32.and
    i32.xor
    i32.add
    i32.add
    local.get $9
    i32.add
    i32.add
    local.tee $25
    local.get $8
    i32.add
    local.set $8
    local.get $4
    local.get $5
    i32.load offset=12
    local.get $6
    local.get $5
    i32.load offset=8
    local.get $7
    local.get $5
    i32.load offset=4
    local.get $8
    i32.const 6
    i32.rotr
    local.get $8
    i32.const 11
    i32.rotr
    i32.xor
    local.get $8
    i32.const 25
    i32.rotr
    i32.xor
    local.get $6
    local.get $8
    local.get $4
    local.get $6
    i32.xor
    i32.and
    i32.xor
    i32.add
    i32.add
    local.get $10
    i32.add
    i32.add
    local.tee $6
    local.get $3
    i32.add
    local.tee $7
    i32.const 6
    i32.rotr
    local.get $7
    i32.const 11
    i32.rotr
    i32.xor
    local.get $7
    i32.const 25
    i32.rotr
    i32.xor
    local.get $4
    local.get $7
    local.get $4
    local.get $8
    i32.xor
    i32.and
    i32.xor
    i32.add
    i32.add
    local.get $11
    i32.add
    i32.add
    local.tee $4
    local.get $2
    i32.add
    local.tee $26
    i32.const 6
    i32.rotr
    local.get $26
    i32.const 11
    i32.rotr
    i32.xor
    local.get $26
    i32.const 25
    i32.rotr
    i32.xor
    local.get $8
    local.get $26
    local.get $7
    local.get $8
    i32.xor
    i32.and
    i32.xor
    i32.add
    i32.add
    local.get $12
    i32.add
    i32.add
    local.tee $27
    local.get $0
    i32.add
    local.set $28
    local.get $27
    local.get $6
    local.get $25
    local.get $0
    local.get $2
    i32.and
    local.get $3
    local.get $0
    local.get $2
    i32.or
    i32.and
    i32.or
    local.get $0
    i32.const 2
    i32.rotr
    local.get $0
    i32.const 13
    i32.rotr
    i32.xor
    local.get $0
    i32.const 22
    i32.rotr
    i32.xor
    i32.add
    i32.add
    local.tee $3
    local.get $0
    i32.and
    local.get $2
    local.get $0
    local.get $3
    i32.or
    i32.and
    i32.or
    local.get $3
    i32.const 2
    i32.rotr
    local.get $3
    i32.const 13
    i32.rotr
    i32.xor
    local.get $3
    i32.const 22
    i32.rotr
    i32.xor
    i32.add
    i32.add
    local.tee $2
    local.get $4
    local.get $2
    local.get $3
    i32.and
    local.get $0
    local.get $2
    local.get $3
    i32.or
    i32.and
    i32.or
    local.get $2
    i32.const 2
    i32.rotr
    local.get $2
    i32.const 13
    i32.rotr
    i32.xor
    local.get $2
    i32.const 22
    i32.rotr
    i32.xor
    i32.add
    i32.add
    local.tee $0
    i32.and
    local.get $3
    local.get $0
    local.get $2
    i32.or
    i32.and
    i32.or
    local.get $0
    i32.const 2
    i32.rotr
    local.get $0
    i32.const 13
    i32.rotr
    i32.xor
    local.get $0
    i32.const 22
    i32.rotr
    i32.xor
    i32.add
    i32.add
    local.tee $4
    local.get $28
    local.get $5
    i32.load offset=28
    local.get $26
    local.get $5
    i32.load offset=24
    local.get $7
    local.get $5
    i32.load offset=20
    local.get $8
    local.get $5
    i32.load offset=16
    local.get $28
    i32.const 6
    i32.rotr
    local.get $28
    i32.const 11
    i32.rotr
    i32.xor
    local.get $28
    i32.const 25
    i32.rotr
    i32.xor
    local.get $7
    local.get $28
    local.get $7
    local.get $26
    i32.xor
    i32.and
    i32.xor
    i32.add
    i32.add
    local.get $13
    i32.add
    i32.add
    local.tee $6
    local.get $3
    i32.add
    local.tee $3
    i32.const 6
    i32.rotr
    local.get $3
    i32.const 11
    i32.rotr
    i32.xor
    local.get $3
    i32.const 25
    i32.rotr
    i32.xor
    local.get $26
    local.get $3
    local.get $26
    local.get $28
    i32.xor
    i32.and
    i32.xor
    i32.add
    i32.add
    local.get $14
    i32.add
    i32.add
    local.tee $7
    local.get $2
    i32.add
    local.tee $8
    i32.const 6
    i32.rotr
    local.get $8
    i32.const 11
    i32.rotr
    i32.xor
    local.get $8
    i32.const 25
    i32.rotr
    i32.xor
    local.get $28
    local.get $8
    local.get $3
    local.get $28
    i32.xor
    i32.and
    i32.xor
    i32.add
    i32.add
    local.get $15
    i32.add
    i32.add
    local.tee $25
    local.get $0
    i32.add
    local.tee $26
    i32.const 6
    i32.rotr
    local.get $26
    i32.const 11
    i32.rotr
    i32.xor
    local.get $26
    i32.const 25
    i32.rotr
    i32.xor
    local.get $3
    local.get $26
    local.get $3
    local.get $8
    i32.xor
    i32.and
    i32.xor
    i32.add
    i32.add
    local.get $16
    i32.add
    i32.add
    local.tee $27
    i32.add
    local.set $28
    local.get $27
    local.get $7
    local.get $6
    local.get $0
    local.get $4
    i32.and
    local.get $2
    local.get $0
    local.get $4
    i32.or
    i32.and
    i32.or
    local.get $4
    i32.const 2
    i32.rotr
    local.get $4
    i32.const 13
    i32.rotr
    i32.xor
    local.get $4
    i32.const 22
    i32.rotr
    i32.xor
    i32.add
    i32.add
    local.tee $2
    local.get $4
    i32.and
    local.get $0
    local.get $2
    local.get $4
    i32.or
    i32.and
    i32.or
    local.get $2
    i32.const 2
    i32.rotr
    local.get $2
    i32.const 13
    i32.rotr
    i32.xor
    local.get $2
    i32.const 22
    i32.rotr
    i32.xor
    i32.add
    i32.add
    local.tee $0
    local.get $25
    local.get $0
    local.get $2
    i32.and
    local.get $4
    local.get $0
    local.get $2
    i32.or
    i32.and
    i32.or
    local.get $0
    i32.const 2
    i32.rotr
    local.get $0
    i32.const 13
    i32.rotr
    i32.xor
    local.get $0
    i32.const 22
    i32.rotr
    i32.xor
    i32.add
    i32.add
    local.tee $4
    i32.and
    local.get $2
    local.get $0
    local.get $4
    i32.or
    i32.and
    i32.or
    local.get $4
    i32.const 2
    i32.rotr
    local.get $4
    i32.const 13
    i32.rotr
    i32.xor
    local.get $4
    i32.const 22
    i32.rotr
    i32.xor
    i32.add
    i32.add
    local.tee $6
    local.get $28
    local.get $5
    i32.load offset=44
    local.get $26
    local.get $5
    i32.load offset=40
    local.get $8
    local.get $5
    i32.load offset=36
    local.get $3
    local.get $5
    i32.load offset=32
    local.get $28
    i32.const 6
    i32.rotr
    local.get $28
    i32.const 11
    i32.rotr
    i32.xor
    local.get $28
    i32.const 25
    i32.rotr
    i32.xor
    local.get $8
    local.get $28
    local.get $8
    local.get $26
    i32.xor
    i32.and
    i32.xor
    i32.add
    i32.add
    local.get $17
    i32.add
    i32.add
    local.tee $3
    local.get $2
    i32.add
    local.tee $2
    i32.const 6
    i32.rotr
    local.get $2
    i32.const 11
    i32.rotr
    i32.xor
    local.get $2
    i32.const 25
    i32.rotr
    i32.xor
    local.get $26
    local.get $2
    local.get $26
    local.get $28
    i32.xor
    i32.and
    i32.xor
    i32.add
    i32.add
    local.get $18
    i32.add
    i32.add
    local.tee $7
    local.get $0
    i32.add
    local.tee $8
    i32.const 6
    i32.rotr
    local.get $8
    i32.const 11
    i32.rotr
    i32.xor
    local.get $8
    i32.const 25
    i32.rotr
    i32.xor
    local.get $28
    local.get $8
    local.get $2
    local.get $28
    i32.xor
    i32.and
    i32.xor
    i32.add
    i32.add
    local.get $19
    i32.add
    i32.add
    local.tee $25
    local.get $4
    i32.add
    local.tee $26
    i32.const 6
    i32.rotr
    local.get $26
    i32.const 11
    i32.rotr
    i32.xor
    local.get $26
    i32.const 25
    i32.rotr
    i32.xor
    local.get $2
    local.get $26
    local.get $2
    local.get $8
    i32.xor
    i32.and
    i32.xor
    i32.add
    i32.add
    local.get $20
    i32.add
    i32.add
    local.tee $27
    i32.add
    local.set $28
    local.get $27
    local.get $7
    local.get $3
    local.get $4
    local.get $6
    i32.and
    local.get $0
    local.get $4
    local.get $6
    i32.or
    i32.and
    i32.or
    local.get $6
    i32.const 2
    i32.rotr
    local.get $6
    i32.const 13
    i32.rotr
    i32.xor
    local.get $6
    i32.const 22
    i32.rotr
    i32.xor
    i32.add
    i32.add
    local.tee $0
    local.get $6
    i32.and
    local.get $4
    local.get $0
    local.get $6
    i32.or
    i32.and
    i32.or
    local.get $0
    i32.const 2
    i32.rotr
    local.get $0
    i32.const 13
    i32.rotr
    i32.xor
    local.get $0
    i32.const 22
    i32.rotr
    i32.xor
    i32.add
    i32.add
    local.tee $3
    local.get $25
    local.get $0
    local.get $3
    i32.and
    local.get $6
    local.get $0
    local.get $3
    i32.or
    i32.and
    i32.or
    local.get $3
    i32.const 2
    i32.rotr
    local.get $3
    i32.const 13
    i32.rotr
    i32.xor
    local.get $3
    i32.const 22
    i32.rotr
    i32.xor
    i32.add
    i32.add
    local.tee $25
    i32.and
    local.get $0
    local.get $3
    local.get $25
    i32.or
    i32.and
    i32.or
    local.get $25
    i32.const 2
    i32.rotr
    local.get $25
    i32.const 13
    i32.rotr
    i32.xor
    local.get $25
    i32.const 22
    i32.rotr
    i32.xor
    i32.add
    i32.add
    local.tee $27
    local.get $28
    local.get $5
    i32.load offset=60
    local.get $26
    local.get $5
    i32.load offset=56
    local.get $8
    local.get $5
    i32.load offset=52
    local.get $2
    local.get $5
    i32.load offset=48
    local.get $28
    i32.const 6
    i32.rotr
    local.get $28
    i32.const 11
    i32.rotr
    i32.xor
    local.get $28
    i32.const 25
    i32.rotr
    i32.xor
    local.get $8
    local.get $28
    local.get $8
    local.get $26
    i32.xor
    i32.and
    i32.xor
    i32.add
    i32.add
    local.get $21
    i32.add
    i32.add
    local.tee $2
    local.get $0
    i32.add
    local.tee $5
    i32.const 6
    i32.rotr
    local.get $5
    i32.const 11
    i32.rotr
    i32.xor
    local.get $5
    i32.const 25
    i32.rotr
    i32.xor
    local.get $26
    local.get $5
    local.get $26
    local.get $28
    i32.xor
    i32.and
    i32.xor
    i32.add
    i32.add
    local.get $22
    i32.add
    i32.add
    local.tee $0
    local.get $3
    i32.add
    local.tee $7
    i32.const 6
    i32.rotr
    local.get $7
    i32.const 11
    i32.rotr
    i32.xor
    local.get $7
    i32.const 25
    i32.rotr
    i32.xor
    local.get $28
    local.get $7
    local.get $5
    local.get $28
    i32.xor
    i32.and
    i32.xor
    i32.add
    i32.add
    local.get $23
    i32.add
    i32.add
    local.tee $8
    local.get $25
    i32.add
    local.tee $6
    i32.const 6
    i32.rotr
    local.get $6
    i32.const 11
    i32.rotr
    i32.xor
    local.get $6
    i32.const 25
    i32.rotr
    i32.xor
    local.get $5
    local.get $6
    local.get $5
    local.get $7
    i32.xor
    i32.and
    i32.xor
    i32.add
    i32.add
    local.get $1
    i32.add
    i32.add
    local.tee $26
    i32.add
    local.set $4
    local.get $26
    local.get $8
    local.get $0
    local.get $27
    local.get $2
    local.get $25
    local.get $27
    i32.and
    local.get $3
    local.get $25
    local.get $27
    i32.or
    i32.and
    i32.or
    local.get $27
    i32.const 2
    i32.rotr
    local.get $27
    i32.const 13
    i32.rotr
    i32.xor
    local.get $27
    i32.const 22
    i32.rotr
    i32.xor
    i32.add
    i32.add
    local.tee $8
    i32.and
    local.get $25
    local.get $8
    local.get $27
    i32.or
    i32.and
    i32.or
    local.get $8
    i32.const 2
    i32.rotr
    local.get $8
    i32.const 13
    i32.rotr
    i32.xor
    local.get $8
    i32.const 22
    i32.rotr
    i32.xor
    i32.add
    i32.add
    local.tee $3
    local.get $8
    i32.and
    local.get $27
    local.get $3
    local.get $8
    i32.or
    i32.and
    i32.or
    local.get $3
    i32.const 2
    i32.rotr
    local.get $3
    i32.const 13
    i32.rotr
    i32.xor
    local.get $3
    i32.const 22
    i32.rotr
    i32.xor
    i32.add
    i32.add
    local.tee $2
    local.get $3
    i32.and
    local.get $8
    local.get $2
    local.get $3
    i32.or
    i32.and
    i32.or
    local.get $2
    i32.const 2
    i32.rotr
    local.get $2
    i32.const 13
    i32.rotr
    i32.xor
    local.get $2
    i32.const 22
    i32.rotr
    i32.xor
    i32.add
    i32.add
    local.set $0
    local.get $24
    i32.const 16
    i32.add
    local.set $24
    br $for-loop|0
   end
  end
  i32.const 133872
  i32.const 133872
  i32.load
  local.get $0
  i32.add
  i32.store
  i32.const 133876
  i32.const 133876
  i32.load
  local.get $2
  i32.add
  i32.store
  i32.const 133880
  i32.const 133880
  i32.load
  local.get $3
  i32.add
  i32.store
  i32.const 133884
  i32.const 133884
  i32.load
  local.get $8
  i32.add
  i32.store
  i32.const 133888
  i32.const 133888
  i32.load
  local.get $4
  i32.add
  i32.store
  i32.const 133892
  i32.const 133892
  i32.load
  local.get $6
  i32.add
  i32.store
  i32.const 133896
  i32.const 133896
  i32.load
  local.get $7
  i32.add
  i32.store
  i32.const 133900
  i32.const 133900
  i32.load
  local.get $5
  i32.add
  i32.store
 )
 (func $asm/sha1/compress (param $0 i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  loop $for-loop|0
   local.get $1
   i32.const 16
   i32.lt_s
   if
    local.get $1
    i32.const 2
    i32.shl
    local.tee $2
    local.get $0
    i32.add
    i32.load
    local.set $3
    local.get $2
    i32.const 133488
    i32.add
    local.get $3
    i32.const -16711936
    i32.and
    i32.const 8
    i32.rotl
    local.get $3
    i32.const 16711935
    i32.and
    i32.const 8
    i32.rotr
    i32.or
    i32.store
    local.get $1
    i32.const 1
    i32.add
    local.set $1
    br $for-loop|0
   end
  end
  i32.const 16
  local.set $0
  loop $for-loop|1
   local.get $0
   i32.const 80
   i32.lt_s
   if
    local.get $0
    i32.const 2
    i32.shl
    local.tee $1
    i32.const 133488
    i32.add
    local.get $1
    i32.const 133424
    i32.add
    i32.load
    local.get $1
    i32.const 133432
    i32.add
    i32.load
    local.get $1
    i32.const 133476
    i32.add
    i32.load
    local.get $1
    i32.const 133456
    i32.add
    i32.load
    i32.xor
    i32.xor
    i32.xor
    i32.const 1
    i32.rotl
    i32.store
    local.get $0
    i32.const 1
    i32.add
    local.set $0
    br $for-loop|1
   end
  end
  i32.const 133456
  i32.load
  local.set $1
  i32.const 133460
  i32.load
  local.set $2
  i32.const 133464
  i32.load
  local.set $3
  i32.const 133468
  i32.load
  local.set $0
  i32.const 133472
  i32.load
  local.set $4
  loop $for-loop|2
   local.get $6
   i32.const 20
   i32.lt_s
   if
    local.get $6
    i32.const 2
    i32.shl
    i32.const 133488
    i32.add
    i32.load
    local.get $2
    local.get $3
    i32.and
    local.get $2
    i32.const -1
    i32.xor
    local.get $0
    i32.and
    i32.or
    local.get $1
    i32.const 5
    i32.rotl
    i32.add
    local.get $4
    i32.add
    i32.const 1518500249
    i32.add
    i32.add
    local.get $0
    local.set $4
    local.get $3
    local.set $0
    local.get $2
    i32.const 30
    i32.rotl
    local.set $3
    local.get $1
    local.set $2
    local.set $1
    local.get $6
    i32.const 1
    i32.add
    local.set $6
    br $for-loop|2
   end
  end
  i32.const 20
  local.set $6
  loop $for-loop|3
   local.get $6
   i32.const 40
   i32.lt_s
   if
    local.get $6
    i32.const 2
    i32.shl
    i32.const 133488
    i32.add
    i32.load
    local.get $2
    local.get $3
    i32.xor
    local.get $0
    i32.xor
    local.get $1
    i32.const 5
    i32.rotl
    i32.add
    local.get $4
    i32.add
    i32.const 1859775393
    i32.add
    i32.add
    local.get $0
    local.set $4
    local.get $3
    local.set $0
    local.get $2
    i32.const 30
    i32.rotl
    local.set $3
    local.get $1
    local.set $2
    local.set $1
    local.get $6
    i32.const 1
    i32.add
    local.set $6
    br $for-loop|3
   end
  end
  i32.const 40
  local.set $6
  loop $for-loop|4
   local.get $6
   i32.const 60
   i32.lt_s
   if
    local.get $6
    i32.const 2
    i32.shl
    i32.const 133488
    i32.add
    i32.load
    local.get $0
    local.get $3
    i32.and
    local.get $2
    local.get $3
    i32.and
    local.get $0
    local.get $2
    i32.and
    i32.or
    i32.or
    local.get $1
    i32.const 5
    i32.rotl
    i32.add
    local.get $4
    i32.add
    i32.const 1894007588
    i32.sub
    i32.add
    local.get $0
    local.set $4
    local.get $3
    local.set $0
    local.get $2
    i32.const 30
    i32.rotl
    local.set $3
    local.get $1
    local.set $2
    local.set $1
    local.get $6
    i32.const 1
    i32.add
    local.set $6
    br $for-loop|4
   end
  end
  i32.const 60
  local.set $6
  loop $for-loop|5
   local.get $6
   i32.const 80
   i32.lt_s
   if
    local.get $6
    i32.const 2
    i32.shl
    i32.const 133488
    i32.add
    i32.load
    local.get $2
    local.get $3
    i32.xor
    local.get $0
    i32.xor
    local.get $1
    i32.const 5
    i32.rotl
    i32.add
    local.get $4
    i32.add
    i32.const 899497514
    i32.sub
    i32.add
    local.get $0
    local.set $4
    local.get $3
    local.set $0
    local.get $2
    i32.const 30
    i32.rotl
    local.set $3
    local.get $1
    local.set $2
    local.set $1
    local.get $6
    i32.const 1
    i32.add
    local.set $6
    br $for-loop|5
   end
  end
  i32.const 133456
  i32.const 133456
  i32.load
  local.get $1
  i32.add
  i32.store
  i32.const 133460
  i32.const 133460
  i32.load
  local.get $2
  i32.add
  i32.store
  i32.const 133464
  i32.const 133464
  i32.load
  local.get $3
  i32.add
  i32.store
  i32.const 133468
  i32.const 133468
  i32.load
  local.get $0
  i32.add
  i32.store
  i32.const 133472
  i32.const 133472
  i32.load
  local.get $4
  i32.add
  i32.store
 )
 (func $asm/modexp/reduceOnce (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  loop $for-loop|0
   local.get $4
   local.get $5
   i32.gt_s
   if
    local.get $5
    i32.const 2
    i32.shl
    local.tee $7
    local.get $1
    i32.add
    i32.load
    local.get $3
    local.get $7
    i32.add
    i32.load
    i32.sub
    local.get $6
    i32.sub
    local.set $6
    local.get $7
    i32.const 144224
    i32.add
    local.get $6
    i32.const 134217727
    i32.and
    i32.store
    local.get $6
    i32.const 31
    i32.shr_u
    local.set $6
    local.get $5
    i32.const 1
    i32.add
    local.set $5
    br $for-loop|0
   end
  end
  i32.const 0
  local.get $6
  i32.eqz
  local.get $2
  i32.const 0
  i32.ne
  i32.or
  i32.sub
  local.set $3
  i32.const 0
  local.set $2
  loop $for-loop|00
   local.get $2
   local.get $4
   i32.lt_s
   if
    local.get $2
    i32.const 2
    i32.shl
    local.tee $5
    local.get $0
    i32.add
    local.get $3
    local.get $5
    i32.const 144224
    i32.add
    i32.load
    i32.and
    local.get $1
    local.get $5
    i32.add
    i32.load
    local.get $3
    i32.const -1
    i32.xor
    i32.and
    i32.or
    i32.store
    local.get $2
    i32.const 1
    i32.add
    local.set $2
    br $for-loop|00
   end
  end
 )
 (func $asm/tdes/block (param $0 i64) (result i64)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i64)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  loop $for-loop|0
   local.get $2
   i32.const 8
   i32.lt_s
   if
    local.get $4
    local.get $0
    i64.const 56
    local.get $2
    i64.extend_i32_s
    i64.const 3
    i64.shl
    i64.sub
    i64.shr_u
    i32.wrap_i64
    i32.const 255
    i32.and
    local.get $2
    i32.const 8
    i32.shl
    i32.or
    i32.const 3
    i32.shl
    i32.const 74976
    i32.add
    i64.load
    i64.or
    local.set $4
    local.get $2
    i32.const 1
    i32.add
    local.set $2
    br $for-loop|0
   end
  end
  local.get $4
  i64.const 32
  i64.shr_u
  i32.wrap_i64
  local.set $2
  local.get $4
  i32.wrap_i64
  local.set $1
  i32.const 132320
  local.set $6
  loop $for-loop|1
   local.get $5
   i32.const 3
   i32.lt_s
   if
    i32.const 0
    local.set $3
    loop $for-loop|2
     local.get $3
     i32.const 8
     i32.lt_s
     if
      local.get $6
      i64.load
      local.tee $0
      i64.const 32
      i64.shr_u
      i32.wrap_i64
      local.get $1
      i32.const 1
      i32.rotr
      i32.xor
      local.set $7
      local.get $6
      i64.load offset=8
      local.tee $4
      i64.const 32
      i64.shr_u
      i32.wrap_i64
      local.get $2
      local.get $0
      i32.wrap_i64
      local.get $1
      i32.const 3
      i32.rotl
      i32.xor
      local.tee $2
      i32.const 252
      i32.and
      i32.const 74720
      i32.add
      i32.load
      local.get $2
      i32.const 8
      i32.shr_u
      i32.const 252
      i32.and
      i32.const 74208
      i32.add
      i32.load
      local.get $2
      i32.const 16
      i32.shr_u
      i32.const 252
      i32.and
      i32.const 73696
      i32.add
      i32.load
      local.get $2
      i32.const 24
      i32.shr_u
      i32.const 252
      i32.and
      i32.const 73184
      i32.add
      i32.load
      local.get $7
      i32.const 252
      i32.and
      i32.const 74464
      i32.add
      i32.load
      local.get $7
      i32.const 8
      i32.shr_u
      i32.const 252
      i32.and
      i32.const 73952
      i32.add
      i32.load
      local.get $7
      i32.const 24
      i32.shr_u
      i32.const 252
      i32.and
      i32.const 72928
      i32.add
      i32.load
      local.get $7
      i32.const 16
      i32.shr_u
      i32.const 252
      i32.and
      i32.const 73440
      i32.add
      i32.load
      i32.or
      i32.or
      i32.or
      i32.or
      i32.or
      i32.or
      i32.or
      i32.xor
      local.tee $2
      i32.const 1
      i32.rotr
      i32.xor
      local.set $7
      local.get $1
      local.get $4
      i32.wrap_i64
      local.get $2
      i32.const 3
      i32.rotl
      i32.xor
      local.tee $1
      i32.const 252
      i32.and
      i32.const 74720
      i32.add
      i32.load
      local.get $1
      i32.const 8
      i32.shr_u
      i32.const 252
      i32.and
      i32.const 74208
      i32.add
      i32.load
      local.get $1
      i32.const 16
      i32.shr_u
      i32.const 252
      i32.and
      i32.const 73696
      i32.add
      i32.load
      local.get $1
      i32.const 24
      i32.shr_u
      i32.const 252
      i32.and
      i32.const 73184
      i32.add
      i32.load
      local.get $7
      i32.const 252
      i32.and
      i32.const 74464
      i32.add
      i32.load
      local.get $7
      i32.const 8
      i32.shr_u
      i32.const 252
      i32.and
      i32.const 73952
      i32.add
      i32.load
      local.get $7
      i32.const 24
      i32.shr_u
      i32.const 252
      i32.and
      i32.const 72928
      i32.add
      i32.load
      local.get $7
      i32.const 16
      i32.shr_u
      i32.const 252
      i32.and
      i32.const 73440
      i32.add
      i32.load
      i32.or
      i32.or
      i32.or
      i32.or
      i32.or
      i32.or
      i32.or
      i32.xor
      local.set $1
      local.get $6
      i32.const 16
      i32.add
      local.set $6
      local.get $3
      i32.const 1
      i32.add
      local.set $3
      br $for-loop|2
     end
    end
    local.get $2
    local.get $1
    local.set $2
    local.set $1
    local.get $5
    i32.const 1
    i32.add
    local.set $5
    br $for-loop|1
   end
  end
  local.get $1
  i64.extend_i32_u
  local.get $2
  i64.extend_i32_u
  i64.const 32
  i64.shl
  i64.or
  local.set $0
  i64.const 0
  local.set $4
  i32.const 0
  local.set $2
  loop $for-loop|3
   local.get $2
   i32.const 8
   i32.lt_s
   if
    local.get $4
    local.get $0
    i64.const 56
    local.get $2
    i64.extend_i32_s
    i64.const 3
    i64.shl
    i64.sub
    i64.shr_u
    i32.wrap_i64
    i32.const 255
    i32.and
    local.get $2
    i32.const 8
    i32.shl
    i32.or
    i32.const 3
    i32.shl
    i32.const 91360
    i32.add
    i64.load
    i64.or
    local.set $4
    local.get $2
    i32.const 1
    i32.add
    local.set $2
    br $for-loop|3
   end
  end
  local.get $4
 )
 (func $asm/rsa/reduceToMont (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 i32)
  (local $11 i32)
  (local $12 i32)
  local.get $3
  i32.const 616
  i32.add
  local.set $8
  local.get $3
  i32.const 2364
  i32.add
  i32.load
  local.set $9
  local.get $3
  i32.const 2360
  i32.add
  i32.load
  local.tee $4
  local.get $2
  i32.add
  i32.const 1
  i32.sub
  local.get $4
  i32.div_s
  local.tee $10
  i32.const 1
  i32.sub
  local.set $7
  loop $for-loop|0
   local.get $7
   i32.const 0
   i32.ge_s
   if
    i32.const 168928
    i32.const 0
    local.get $4
    i32.const 2
    i32.shl
    local.tee $5
    memory.fill
    local.get $4
    local.get $7
    i32.mul
    local.tee $6
    local.get $4
    i32.add
    local.set $11
    i32.const 168928
    local.get $1
    local.get $6
    i32.const 2
    i32.shl
    i32.add
    local.get $2
    local.get $11
    local.get $2
    local.get $11
    i32.lt_s
    select
    local.get $6
    i32.sub
    i32.const 2
    i32.shl
    memory.copy
    i32.const 168928
    i32.const 168928
    local.get $8
    local.get $3
    local.get $4
    local.get $9
    call $asm/modexp/montMul
    local.get $7
    local.get $10
    i32.const 1
    i32.sub
    i32.eq
    if
     local.get $0
     i32.const 168928
     local.get $5
     memory.copy
    else
     local.get $0
     local.get $0
     local.get $8
     local.get $3
     local.get $4
     local.get $9
     call $asm/modexp/montMul
     i32.const 0
     local.set $5
     i32.const 0
     local.set $6
     loop $for-loop|00
      local.get $4
      local.get $6
      i32.gt_s
      if
       local.get $6
       i32.const 2
       i32.shl
       local.tee $11
       local.get $0
       i32.add
       local.tee $12
       i32.load
       local.get $11
       i32.const 168928
       i32.add
       i32.load
       i32.add
       local.get $5
       i32.add
       local.set $5
       local.get $12
       local.get $5
       i32.const 134217727
       i32.and
       i32.store
       local.get $5
       i32.const 27
       i32.shr_u
       local.set $5
       local.get $6
       i32.const 1
       i32.add
       local.set $6
       br $for-loop|00
      end
     end
     local.get $0
     local.get $0
     local.get $5
     local.get $3
     local.get $4
     call $asm/modexp/reduceOnce
    end
    local.get $7
    i32.const 1
    i32.sub
    local.set $7
    br $for-loop|0
   end
  end
 )
 (func $asm/modexp/setModulus (param $0 i32) (param $1 i32) (param $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 i32)
  (local $11 i32)
  (local $12 i32)
  (local $13 i32)
  loop $while-continue|0
   local.get $2
   local.get $3
   i32.gt_s
   if (result i32)
    local.get $1
    local.get $3
    i32.add
    i32.load8_u
   else
    i32.const 1
   end
   i32.eqz
   if
    local.get $3
    i32.const 1
    i32.add
    local.set $3
    br $while-continue|0
   end
  end
  local.get $1
  local.get $2
  local.get $2
  local.get $3
  i32.sub
  local.tee $3
  i32.sub
  i32.add
  local.set $4
  local.get $0
  i32.const 2368
  i32.add
  i32.load
  local.get $3
  i32.eq
  if (result i32)
   local.get $3
   local.set $1
   block $~lib/util/memory/memcmp|inlined.0
    local.get $0
    i32.const 1848
    i32.add
    local.tee $6
    local.get $4
    local.tee $2
    i32.eq
    br_if $~lib/util/memory/memcmp|inlined.0
    local.get $6
    i32.const 7
    i32.and
    local.get $2
    i32.const 7
    i32.and
    i32.eq
    if
     loop $while-continue|01
      local.get $6
      i32.const 7
      i32.and
      if
       i32.const 0
       local.set $5
       local.get $1
       i32.eqz
       br_if $~lib/util/memory/memcmp|inlined.0
       local.get $6
       i32.load8_u
       local.tee $12
       local.get $2
       i32.load8_u
       local.tee $13
       i32.sub
       local.set $5
       local.get $12
       local.get $13
       i32.ne
       br_if $~lib/util/memory/memcmp|inlined.0
       local.get $1
       i32.const 1
       i32.sub
       local.set $1
       local.get $6
       i32.const 1
       i32.add
       local.set $6
       local.get $2
       i32.const 1
       i32.add
       local.set $2
       br $while-continue|01
      end
     end
     loop $while-continue|1
      local.get $1
      i32.const 8
      i32.ge_u
      if
       local.get $6
       i64.load
       local.get $2
       i64.load
       i64.eq
       if
        local.get $6
        i32.const 8
        i32.add
        local.set $6
        local.get $2
        i32.const 8
        i32.add
        local.set $2
        local.get $1
        i32.const 8
        i32.sub
        local.set $1
        br $while-continue|1
       end
      end
     end
    end
    loop $while-continue|2
     local.get $1
     local.tee $5
     i32.const 1
     i32.sub
     local.set $1
     local.get $5
     if
      local.get $6
      i32.load8_u
      local.tee $12
      local.get $2
      i32.load8_u
      local.tee $13
      i32.sub
      local.set $5
      local.get $12
      local.get $13
      i32.ne
      br_if $~lib/util/memory/memcmp|inlined.0
      local.get $6
      i32.const 1
      i32.add
      local.set $6
      local.get $2
      i32.const 1
      i32.add
      local.set $2
      br $while-continue|2
     end
    end
    i32.const 0
    local.set $5
   end
   local.get $5
   i32.eqz
  else
   i32.const 0
  end
  if
   return
  end
  local.get $0
  local.get $4
  local.get $3
  local.get $3
  i32.const 3
  i32.shl
  local.get $4
  i32.load8_u
  i32.clz
  i32.const 24
  i32.sub
  i32.sub
  local.tee $2
  i32.const 26
  i32.add
  i32.const 27
  i32.div_s
  local.tee $5
  call $asm/modexp/bytesToDigits
  local.get $0
  i32.load
  local.tee $6
  local.set $1
  loop $for-loop|3
   local.get $7
   i32.const 5
   i32.lt_s
   if
    local.get $1
    i32.const 2
    local.get $1
    local.get $6
    i32.mul
    i32.sub
    i32.mul
    local.set $1
    local.get $7
    i32.const 1
    i32.add
    local.set $7
    br $for-loop|3
   end
  end
  local.get $0
  i32.const 2364
  i32.add
  i32.const 0
  local.get $1
  i32.sub
  i32.const 134217727
  i32.and
  i32.store
  local.get $0
  i32.const 2360
  i32.add
  local.get $5
  i32.store
  local.get $0
  i32.const 616
  i32.add
  local.set $1
  local.get $0
  i32.const 1232
  i32.add
  local.tee $7
  i32.const 0
  local.get $5
  i32.const 2
  i32.shl
  memory.fill
  local.get $7
  local.get $2
  i32.const 1
  i32.sub
  local.tee $6
  i32.const 27
  i32.div_s
  i32.const 2
  i32.shl
  i32.add
  i32.const 1
  local.get $6
  i32.const 27
  i32.rem_s
  i32.shl
  i32.store
  loop $for-loop|4
   local.get $8
   local.get $5
   i32.const 27
   i32.mul
   local.get $2
   i32.sub
   i32.const 1
   i32.add
   i32.lt_s
   if
    local.get $7
    local.get $0
    local.get $5
    call $asm/modexp/modDouble
    local.get $8
    i32.const 1
    i32.add
    local.set $8
    br $for-loop|4
   end
  end
  local.get $5
  i32.const 27
  i32.mul
  local.set $6
  loop $while-continue|5
   local.get $6
   i32.const 1
   i32.and
   i32.eqz
   if
    local.get $6
    i32.const 1
    i32.shr_s
    local.set $6
    local.get $9
    i32.const 1
    i32.add
    local.set $9
    br $while-continue|5
   end
  end
  local.get $1
  local.get $7
  local.get $5
  i32.const 2
  i32.shl
  memory.copy
  loop $for-loop|6
   local.get $6
   local.get $10
   i32.gt_s
   if
    local.get $1
    local.get $0
    local.get $5
    call $asm/modexp/modDouble
    local.get $10
    i32.const 1
    i32.add
    local.set $10
    br $for-loop|6
   end
  end
  local.get $0
  i32.const 2364
  i32.add
  i32.load
  local.set $2
  loop $for-loop|7
   local.get $9
   local.get $11
   i32.gt_s
   if
    local.get $1
    local.get $1
    local.get $0
    local.get $5
    local.get $2
    call $asm/modexp/montSqr
    local.get $11
    i32.const 1
    i32.add
    local.set $11
    br $for-loop|7
   end
  end
  local.get $0
  i32.const 1848
  i32.add
  local.get $4
  local.get $3
  memory.copy
  local.get $0
  i32.const 2368
  i32.add
  local.get $3
  i32.store
 )
 (func $asm/modexp/powMont (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i64)
  (local $8 i32)
  (local $9 i32)
  (local $10 i32)
  (local $11 i32)
  (local $12 i64)
  local.get $4
  i32.const 2360
  i32.add
  i32.load
  local.set $6
  local.get $4
  i32.const 2364
  i32.add
  i32.load
  local.set $9
  i32.const 1
  block $__inlined_func$asm/modexp/windowFor$45 (result i32)
   i32.const 2
   local.get $2
   i32.const 32
   i32.le_s
   br_if $__inlined_func$asm/modexp/windowFor$45
   drop
   i32.const 3
   local.get $2
   i32.const 128
   i32.le_s
   br_if $__inlined_func$asm/modexp/windowFor$45
   drop
   i32.const 4
   local.get $2
   i32.const 512
   i32.le_s
   br_if $__inlined_func$asm/modexp/windowFor$45
   drop
   i32.const 5
  end
  local.tee $5
  i32.shl
  local.set $10
  i32.const 145472
  local.get $4
  i32.const 1232
  i32.add
  local.get $6
  i32.const 2
  i32.shl
  local.tee $8
  memory.copy
  i32.const 146088
  local.get $1
  local.get $8
  memory.copy
  i32.const 2
  local.set $8
  loop $for-loop|0
   local.get $8
   local.get $10
   i32.lt_s
   if
    local.get $8
    i32.const 616
    i32.mul
    local.tee $11
    i32.const 145472
    i32.add
    local.get $11
    i32.const 144856
    i32.add
    local.get $1
    local.get $4
    local.get $6
    local.get $9
    call $asm/modexp/montMul
    local.get $8
    i32.const 1
    i32.add
    local.set $8
    br $for-loop|0
   end
  end
  local.get $2
  local.get $5
  i32.add
  i32.const 1
  i32.sub
  local.get $5
  i32.div_s
  local.tee $1
  i32.const 1
  i32.sub
  local.get $5
  i32.mul
  local.tee $2
  i32.const 27
  i32.div_s
  local.set $8
  local.get $2
  i32.const 27
  i32.rem_s
  i64.extend_i32_s
  local.set $7
  local.get $8
  i32.const 2
  i32.shl
  local.tee $2
  i32.const 166432
  i32.add
  i64.load32_u
  local.set $12
  local.get $8
  i32.const 1
  i32.add
  local.get $3
  i32.lt_s
  if (result i64)
   local.get $12
   local.get $2
   i32.const 166436
   i32.add
   i64.load32_u
   i64.const 27
   i64.shl
   i64.or
  else
   local.get $12
  end
  local.get $7
  i64.shr_u
  i32.wrap_i64
  i32.const 1
  local.get $5
  i32.shl
  i32.const 1
  i32.sub
  i32.and
  local.get $5
  local.get $6
  call $asm/modexp/lookup
  i32.const 165184
  i32.const 165808
  local.get $6
  i32.const 2
  i32.shl
  memory.copy
  local.get $1
  i32.const 2
  i32.sub
  local.set $1
  loop $for-loop|1
   local.get $1
   i32.const 0
   i32.ge_s
   if
    i32.const 0
    local.set $2
    loop $for-loop|2
     local.get $2
     local.get $5
     i32.lt_s
     if
      i32.const 165184
      i32.const 165184
      local.get $4
      local.get $6
      local.get $9
      call $asm/modexp/montSqr
      local.get $2
      i32.const 1
      i32.add
      local.set $2
      br $for-loop|2
     end
    end
    local.get $1
    local.get $5
    i32.mul
    local.tee $2
    i32.const 27
    i32.div_s
    local.set $8
    local.get $2
    i32.const 27
    i32.rem_s
    i64.extend_i32_s
    local.set $7
    local.get $8
    i32.const 2
    i32.shl
    local.tee $2
    i32.const 166432
    i32.add
    i64.load32_u
    local.set $12
    local.get $8
    i32.const 1
    i32.add
    local.get $3
    i32.lt_s
    if (result i64)
     local.get $12
     local.get $2
     i32.const 166436
     i32.add
     i64.load32_u
     i64.const 27
     i64.shl
     i64.or
    else
     local.get $12
    end
    local.get $7
    i64.shr_u
    i32.wrap_i64
    i32.const 1
    local.get $5
    i32.shl
    i32.const 1
    i32.sub
    i32.and
    local.get $5
    local.get $6
    call $asm/modexp/lookup
    i32.const 165184
    i32.const 165184
    i32.const 165808
    local.get $4
    local.get $6
    local.get $9
    call $asm/modexp/montMul
    local.get $1
    i32.const 1
    i32.sub
    local.set $1
    br $for-loop|1
   end
  end
  local.get $0
  i32.const 165184
  local.get $6
  i32.const 2
  i32.shl
  memory.copy
 )
 (func $asm/modexp/loadExponent (param $0 i32) (param $1 i32) (param $2 i32)
  i32.const 166432
  local.get $0
  local.get $1
  local.get $2
  call $asm/modexp/bytesToDigits
  local.get $2
  i32.const 2
  i32.shl
  i32.const 166432
  i32.add
  i32.const 0
  i32.store
 )
 (func $asm/tdes/tdesSchedule (param $0 i32) (param $1 i32)
  i32.const 66576
  i32.const 66560
  local.get $0
  i32.const 24
  i32.eq
  select
  local.set $0
  local.get $1
  if
   local.get $0
   i32.const 132320
   i32.const 1
   call $asm/tdes/desSchedule
   i32.const 66568
   i32.const 132448
   i32.const 0
   call $asm/tdes/desSchedule
   i32.const 66560
   i32.const 132576
   i32.const 1
   call $asm/tdes/desSchedule
  else
   i32.const 66560
   i32.const 132320
   i32.const 0
   call $asm/tdes/desSchedule
   i32.const 66568
   i32.const 132448
   i32.const 1
   call $asm/tdes/desSchedule
   local.get $0
   i32.const 132576
   i32.const 0
   call $asm/tdes/desSchedule
  end
 )
 (func $asm/sha256/sha256Update (param $0 i32)
  (local $1 i32)
  global.get $asm/sha256/totalLen
  local.get $0
  i64.extend_i32_s
  i64.add
  global.set $asm/sha256/totalLen
  global.get $asm/sha256/pendingLen
  i32.const 0
  i32.gt_s
  if
   global.get $asm/sha256/pendingLen
   i32.const 133904
   i32.add
   i32.const 1024
   i32.const 64
   global.get $asm/sha256/pendingLen
   i32.sub
   local.tee $1
   local.get $0
   local.get $0
   local.get $1
   i32.gt_s
   select
   local.tee $1
   memory.copy
   global.get $asm/sha256/pendingLen
   local.get $1
   i32.add
   global.set $asm/sha256/pendingLen
   global.get $asm/sha256/pendingLen
   i32.const 64
   i32.lt_s
   if
    return
   end
   i32.const 133904
   call $asm/sha256/compress
   i32.const 0
   global.set $asm/sha256/pendingLen
  end
  loop $while-continue|0
   local.get $0
   local.get $1
   i32.sub
   i32.const 64
   i32.ge_s
   if
    local.get $1
    i32.const 1024
    i32.add
    call $asm/sha256/compress
    local.get $1
    i32.const -64
    i32.sub
    local.set $1
    br $while-continue|0
   end
  end
  local.get $0
  local.get $1
  i32.gt_s
  if
   i32.const 133904
   local.get $1
   i32.const 1024
   i32.add
   local.get $0
   local.get $1
   i32.sub
   local.tee $0
   memory.copy
   local.get $0
   global.set $asm/sha256/pendingLen
  end
 )
 (func $asm/sha256/sha256Final
  (local $0 i32)
  (local $1 i64)
  (local $2 i32)
  (local $3 i32)
  global.get $asm/sha256/pendingLen
  i32.const 133904
  i32.add
  i32.const 128
  i32.store8
  global.get $asm/sha256/pendingLen
  i32.const 1
  i32.add
  global.set $asm/sha256/pendingLen
  global.get $asm/sha256/pendingLen
  i32.const 56
  i32.gt_s
  if
   global.get $asm/sha256/pendingLen
   i32.const 133904
   i32.add
   i32.const 0
   i32.const 64
   global.get $asm/sha256/pendingLen
   i32.sub
   memory.fill
   i32.const 133904
   call $asm/sha256/compress
   i32.const 0
   global.set $asm/sha256/pendingLen
  end
  global.get $asm/sha256/pendingLen
  i32.const 133904
  i32.add
  i32.const 0
  i32.const 56
  global.get $asm/sha256/pendingLen
  i32.sub
  memory.fill
  i32.const 133960
  global.get $asm/sha256/totalLen
  i64.const 3
  i64.shl
  local.tee $1
  i64.const 32
  i64.shr_u
  i32.wrap_i64
  local.tee $2
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $2
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  i32.store
  i32.const 133964
  local.get $1
  i32.wrap_i64
  local.tee $2
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $2
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  i32.store
  i32.const 133904
  call $asm/sha256/compress
  loop $for-loop|0
   local.get $0
   i32.const 8
   i32.lt_s
   if
    local.get $0
    i32.const 2
    i32.shl
    local.tee $2
    i32.const 133872
    i32.add
    i32.load
    local.set $3
    local.get $2
    i32.const 66608
    i32.add
    local.get $3
    i32.const -16711936
    i32.and
    i32.const 8
    i32.rotl
    local.get $3
    i32.const 16711935
    i32.and
    i32.const 8
    i32.rotr
    i32.or
    i32.store
    local.get $0
    i32.const 1
    i32.add
    local.set $0
    br $for-loop|0
   end
  end
  i32.const 133872
  i32.const 0
  i32.const 32
  memory.fill
  i32.const 133904
  i32.const 0
  i32.const 64
  memory.fill
  i32.const 0
  global.set $asm/sha256/pendingLen
  i64.const 0
  global.set $asm/sha256/totalLen
 )
 (func $asm/sha1/sha1Update (param $0 i32)
  (local $1 i32)
  global.get $asm/sha1/totalLen
  local.get $0
  i64.extend_i32_s
  i64.add
  global.set $asm/sha1/totalLen
  global.get $asm/sha1/pendingLen
  i32.const 0
  i32.gt_s
  if
   global.get $asm/sha1/pendingLen
   i32.const 133808
   i32.add
   i32.const 1024
   i32.const 64
   global.get $asm/sha1/pendingLen
   i32.sub
   local.tee $1
   local.get $0
   local.get $0
   local.get $1
   i32.gt_s
   select
   local.tee $1
   memory.copy
   global.get $asm/sha1/pendingLen
   local.get $1
   i32.add
   global.set $asm/sha1/pendingLen
   global.get $asm/sha1/pendingLen
   i32.const 64
   i32.lt_s
   if
    return
   end
   i32.const 133808
   call $asm/sha1/compress
   i32.const 0
   global.set $asm/sha1/pendingLen
  end
  loop $while-continue|0
   local.get $0
   local.get $1
   i32.sub
   i32.const 64
   i32.ge_s
   if
    local.get $1
    i32.const 1024
    i32.add
    call $asm/sha1/compress
    local.get $1
    i32.const -64
    i32.sub
    local.set $1
    br $while-continue|0
   end
  end
  local.get $0
  local.get $1
  i32.gt_s
  if
   i32.const 133808
   local.get $1
   i32.const 1024
   i32.add
   local.get $0
   local.get $1
   i32.sub
   local.tee $0
   memory.copy
   local.get $0
   global.set $asm/sha1/pendingLen
  end
 )
 (func $asm/sha1/sha1Final
  (local $0 i32)
  (local $1 i64)
  (local $2 i32)
  (local $3 i32)
  global.get $asm/sha1/pendingLen
  i32.const 133808
  i32.add
  i32.const 128
  i32.store8
  global.get $asm/sha1/pendingLen
  i32.const 1
  i32.add
  global.set $asm/sha1/pendingLen
  global.get $asm/sha1/pendingLen
  i32.const 56
  i32.gt_s
  if
   global.get $asm/sha1/pendingLen
   i32.const 133808
   i32.add
   i32.const 0
   i32.const 64
   global.get $asm/sha1/pendingLen
   i32.sub
   memory.fill
   i32.const 133808
   call $asm/sha1/compress
   i32.const 0
   global.set $asm/sha1/pendingLen
  end
  global.get $asm/sha1/pendingLen
  i32.const 133808
  i32.add
  i32.const 0
  i32.const 56
  global.get $asm/sha1/pendingLen
  i32.sub
  memory.fill
  i32.const 133864
  global.get $asm/sha1/totalLen
  i64.const 3
  i64.shl
  local.tee $1
  i64.const 32
  i64.shr_u
  i32.wrap_i64
  local.tee $2
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $2
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  i32.store
  i32.const 133868
  local.get $1
  i32.wrap_i64
  local.tee $2
  i32.const -16711936
  i32.and
  i32.const 8
  i32.rotl
  local.get $2
  i32.const 16711935
  i32.and
  i32.const 8
  i32.rotr
  i32.or
  i32.store
  i32.const 133808
  call $asm/sha1/compress
  loop $for-loop|0
   local.get $0
   i32.const 5
   i32.lt_s
   if
    local.get $0
    i32.const 2
    i32.shl
    local.tee $2
    i32.const 133456
    i32.add
    i32.load
    local.set $3
    local.get $2
    i32.const 66608
    i32.add
    local.get $3
    i32.const -16711936
    i32.and
    i32.const 8
    i32.rotl
    local.get $3
    i32.const 16711935
    i32.and
    i32.const 8
    i32.rotr
    i32.or
    i32.store
    local.get $0
    i32.const 1
    i32.add
    local.set $0
    br $for-loop|0
   end
  end
  i32.const 133456
  i32.const 0
  i32.const 20
  memory.fill
  i32.const 133488
  i32.const 0
  i32.const 320
  memory.fill
  i32.const 133808
  i32.const 0
  i32.const 64
  memory.fill
  i32.const 0
  global.set $asm/sha1/pendingLen
  i64.const 0
  global.set $asm/sha1/totalLen
 )
 (func $asm/modexp/montSqr (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 v128)
  (local $11 i64)
  (local $12 i64)
  (local $13 i32)
  (local $14 v128)
  (local $15 i32)
  loop $for-loop|0
   local.get $3
   local.get $9
   i32.gt_s
   if
    local.get $9
    i32.const 2
    i32.shl
    i32.const 142352
    i32.add
    local.get $1
    local.get $3
    i32.const 1
    i32.sub
    local.get $9
    i32.sub
    i32.const 2
    i32.shl
    i32.add
    i32.load
    i32.store
    local.get $9
    i32.const 1
    i32.add
    local.set $9
    br $for-loop|0
   end
  end
  i32.const 0
  local.set $9
  loop $for-loop|00
   local.get $3
   local.get $9
   i32.gt_s
   if
    local.get $9
    i32.const 2
    i32.shl
    i32.const 143600
    i32.add
    local.get $2
    local.get $3
    i32.const 1
    i32.sub
    local.get $9
    i32.sub
    i32.const 2
    i32.shl
    i32.add
    i32.load
    i32.store
    local.get $9
    i32.const 1
    i32.add
    local.set $9
    br $for-loop|00
   end
  end
  i32.const 0
  local.set $9
  loop $for-loop|03
   local.get $3
   local.get $9
   i32.gt_s
   if
    i64.const 0
    local.set $11
    local.get $9
    i32.const 1
    i32.add
    i32.const 1
    i32.shr_s
    local.tee $13
    i32.const 0
    i32.gt_s
    if
     local.get $1
     local.set $6
     local.get $3
     local.get $9
     i32.sub
     i32.const 2
     i32.shl
     i32.const 142348
     i32.add
     local.set $5
     v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
     local.set $10
     i32.const 0
     local.set $7
     loop $for-loop|1
      local.get $7
      i32.const 4
      i32.add
      local.tee $8
      local.get $13
      i32.le_s
      if
       local.get $10
       local.get $6
       v128.load
       local.tee $10
       local.get $5
       v128.load
       local.tee $14
       i64x2.extmul_low_i32x4_u
       i64x2.add
       local.get $10
       local.get $14
       i64x2.extmul_high_i32x4_u
       i64x2.add
       local.set $10
       local.get $6
       i32.const 16
       i32.add
       local.set $6
       local.get $5
       i32.const 16
       i32.add
       local.set $5
       local.get $8
       local.set $7
       br $for-loop|1
      end
     end
     local.get $10
     i64x2.extract_lane 0
     local.get $10
     i64x2.extract_lane 1
     i64.add
     local.set $11
     loop $for-loop|2
      local.get $7
      local.get $13
      i32.lt_s
      if
       local.get $11
       local.get $6
       i64.load32_u
       local.get $5
       i64.load32_u
       i64.mul
       i64.add
       local.set $11
       local.get $6
       i32.const 4
       i32.add
       local.set $6
       local.get $5
       i32.const 4
       i32.add
       local.set $5
       local.get $7
       i32.const 1
       i32.add
       local.set $7
       br $for-loop|2
      end
     end
    end
    local.get $11
    i64.const 1
    i64.shl
    local.set $11
    local.get $9
    i32.const 1
    i32.and
    if (result i64)
     local.get $11
    else
     local.get $11
     local.get $1
     local.get $9
     i32.const 1
     i32.shr_s
     i32.const 2
     i32.shl
     i32.add
     i64.load32_u
     local.tee $11
     local.get $11
     i64.mul
     i64.add
    end
    local.get $12
    i64.add
    i32.const 141728
    local.set $8
    local.get $3
    local.get $9
    i32.sub
    i32.const 2
    i32.shl
    i32.const 143596
    i32.add
    local.set $6
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    local.set $10
    i32.const 0
    local.set $5
    loop $for-loop|3
     local.get $5
     i32.const 4
     i32.add
     local.tee $7
     local.get $9
     i32.le_s
     if
      local.get $10
      local.get $8
      v128.load
      local.tee $10
      local.get $6
      v128.load
      local.tee $14
      i64x2.extmul_low_i32x4_u
      i64x2.add
      local.get $10
      local.get $14
      i64x2.extmul_high_i32x4_u
      i64x2.add
      local.set $10
      local.get $8
      i32.const 16
      i32.add
      local.set $8
      local.get $6
      i32.const 16
      i32.add
      local.set $6
      local.get $7
      local.set $5
      br $for-loop|3
     end
    end
    local.get $10
    i64x2.extract_lane 0
    local.get $10
    i64x2.extract_lane 1
    i64.add
    i64.add
    local.set $12
    loop $for-loop|4
     local.get $5
     local.get $9
     i32.lt_s
     if
      local.get $12
      local.get $8
      i64.load32_u
      local.get $6
      i64.load32_u
      i64.mul
      i64.add
      local.set $12
      local.get $8
      i32.const 4
      i32.add
      local.set $8
      local.get $6
      i32.const 4
      i32.add
      local.set $6
      local.get $5
      i32.const 1
      i32.add
      local.set $5
      br $for-loop|4
     end
    end
    local.get $9
    i32.const 2
    i32.shl
    i32.const 141728
    i32.add
    local.get $12
    i32.wrap_i64
    local.get $4
    i32.mul
    i32.const 134217727
    i32.and
    local.tee $5
    i32.store
    local.get $12
    local.get $2
    i64.load32_u
    local.get $5
    i64.extend_i32_u
    i64.mul
    i64.add
    i64.const 27
    i64.shr_u
    local.set $12
    local.get $9
    i32.const 1
    i32.add
    local.set $9
    br $for-loop|03
   end
  end
  local.get $3
  local.set $4
  loop $for-loop|5
   local.get $4
   local.get $3
   i32.const 1
   i32.shl
   i32.const 1
   i32.sub
   i32.lt_s
   if
    local.get $4
    local.get $3
    i32.sub
    i32.const 1
    i32.add
    local.tee $13
    i32.const 2
    i32.shl
    local.tee $5
    i64.const 0
    local.set $11
    local.get $4
    i32.const 1
    i32.add
    i32.const 1
    i32.shr_s
    local.get $13
    i32.sub
    local.tee $9
    i32.const 0
    i32.gt_s
    if
     local.get $1
     local.get $5
     i32.add
     local.set $8
     local.get $3
     local.get $4
     i32.sub
     local.get $13
     i32.add
     i32.const 2
     i32.shl
     i32.const 142348
     i32.add
     local.set $6
     v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
     local.set $10
     i32.const 0
     local.set $5
     loop $for-loop|6
      local.get $5
      i32.const 4
      i32.add
      local.tee $7
      local.get $9
      i32.le_s
      if
       local.get $10
       local.get $8
       v128.load
       local.tee $10
       local.get $6
       v128.load
       local.tee $14
       i64x2.extmul_low_i32x4_u
       i64x2.add
       local.get $10
       local.get $14
       i64x2.extmul_high_i32x4_u
       i64x2.add
       local.set $10
       local.get $8
       i32.const 16
       i32.add
       local.set $8
       local.get $6
       i32.const 16
       i32.add
       local.set $6
       local.get $7
       local.set $5
       br $for-loop|6
      end
     end
     local.get $10
     i64x2.extract_lane 0
     local.get $10
     i64x2.extract_lane 1
     i64.add
     local.set $11
     loop $for-loop|7
      local.get $5
      local.get $9
      i32.lt_s
      if
       local.get $11
       local.get $8
       i64.load32_u
       local.get $6
       i64.load32_u
       i64.mul
       i64.add
       local.set $11
       local.get $8
       i32.const 4
       i32.add
       local.set $8
       local.get $6
       i32.const 4
       i32.add
       local.set $6
       local.get $5
       i32.const 1
       i32.add
       local.set $5
       br $for-loop|7
      end
     end
    end
    local.get $11
    i64.const 1
    i64.shl
    local.set $11
    local.get $4
    i32.const 1
    i32.and
    if (result i64)
     local.get $11
    else
     local.get $11
     local.get $1
     local.get $4
     i32.const 1
     i32.shr_s
     i32.const 2
     i32.shl
     i32.add
     i64.load32_u
     local.tee $11
     local.get $11
     i64.mul
     i64.add
    end
    local.get $12
    i64.add
    local.set $11
    i32.const 141728
    i32.add
    local.set $9
    i32.const 143600
    local.set $8
    local.get $3
    local.get $13
    i32.sub
    local.set $7
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    local.set $10
    i32.const 0
    local.set $6
    loop $for-loop|8
     local.get $6
     i32.const 4
     i32.add
     local.tee $5
     local.get $7
     i32.le_s
     if
      local.get $10
      local.get $9
      v128.load
      local.tee $10
      local.get $8
      v128.load
      local.tee $14
      i64x2.extmul_low_i32x4_u
      i64x2.add
      local.get $10
      local.get $14
      i64x2.extmul_high_i32x4_u
      i64x2.add
      local.set $10
      local.get $9
      i32.const 16
      i32.add
      local.set $9
      local.get $8
      i32.const 16
      i32.add
      local.set $8
      local.get $5
      local.set $6
      br $for-loop|8
     end
    end
    local.get $11
    local.get $10
    i64x2.extract_lane 0
    local.get $10
    i64x2.extract_lane 1
    i64.add
    i64.add
    local.set $12
    loop $for-loop|9
     local.get $6
     local.get $7
     i32.lt_s
     if
      local.get $12
      local.get $9
      i64.load32_u
      local.get $8
      i64.load32_u
      i64.mul
      i64.add
      local.set $12
      local.get $9
      i32.const 4
      i32.add
      local.set $9
      local.get $8
      i32.const 4
      i32.add
      local.set $8
      local.get $6
      i32.const 1
      i32.add
      local.set $6
      br $for-loop|9
     end
    end
    local.get $4
    local.get $3
    i32.sub
    i32.const 2
    i32.shl
    i32.const 141104
    i32.add
    local.get $12
    i32.wrap_i64
    i32.const 134217727
    i32.and
    i32.store
    local.get $12
    i64.const 27
    i64.shr_u
    local.set $12
    local.get $4
    i32.const 1
    i32.add
    local.set $4
    br $for-loop|5
   end
  end
  local.get $3
  i32.const 2
  i32.shl
  local.tee $1
  i32.const 141100
  i32.add
  local.get $12
  i32.wrap_i64
  i32.const 134217727
  i32.and
  i32.store
  local.get $1
  i32.const 141104
  i32.add
  local.tee $1
  local.get $12
  i64.const 27
  i64.shr_u
  i64.store32
  local.get $0
  i32.const 141104
  local.get $1
  i32.load
  local.get $2
  local.get $3
  call $asm/modexp/reduceOnce
 )
 (func $asm/modexp/modDouble (param $0 i32) (param $1 i32) (param $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  loop $for-loop|0
   local.get $2
   local.get $4
   i32.gt_s
   if
    local.get $3
    local.get $0
    local.get $4
    i32.const 2
    i32.shl
    local.tee $3
    i32.add
    i32.load
    local.get $0
    local.get $3
    i32.add
    local.tee $3
    i32.load
    i32.add
    i32.add
    local.set $5
    local.get $3
    local.get $5
    i32.const 134217727
    i32.and
    i32.store
    local.get $5
    i32.const 27
    i32.shr_u
    local.set $3
    local.get $4
    i32.const 1
    i32.add
    local.set $4
    br $for-loop|0
   end
  end
  local.get $0
  local.get $0
  local.get $3
  local.get $1
  local.get $2
  call $asm/modexp/reduceOnce
 )
 (func $asm/modexp/lookup (param $0 i32) (param $1 i32) (param $2 i32)
  (local $3 v128)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  local.get $2
  i32.const 3
  i32.add
  i32.const 2
  i32.shr_s
  local.set $5
  i32.const 1
  local.get $1
  i32.shl
  local.set $6
  i32.const 0
  local.set $2
  loop $for-loop|0
   local.get $2
   local.get $5
   i32.lt_s
   if
    local.get $2
    i32.const 4
    i32.shl
    local.set $4
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    local.set $3
    i32.const 0
    local.set $1
    loop $for-loop|1
     local.get $1
     local.get $6
     i32.lt_s
     if
      local.get $3
      local.get $1
      i32.const 616
      i32.mul
      i32.const 145472
      i32.add
      local.get $4
      i32.add
      v128.load
      i32.const 0
      local.get $0
      local.get $1
      i32.xor
      local.tee $7
      i32.const 1
      i32.sub
      local.get $7
      i32.const -1
      i32.xor
      i32.and
      i32.const 31
      i32.shr_u
      i32.sub
      i32x4.splat
      v128.and
      v128.or
      local.set $3
      local.get $1
      i32.const 1
      i32.add
      local.set $1
      br $for-loop|1
     end
    end
    local.get $4
    i32.const 165808
    i32.add
    local.get $3
    v128.store
    local.get $2
    i32.const 1
    i32.add
    local.set $2
    br $for-loop|0
   end
  end
 )
 (func $asm/modexp/fromMont (param $0 i32) (param $1 i32) (param $2 i32)
  (local $3 i32)
  i32.const 144848
  i32.const 0
  local.get $2
  i32.const 2360
  i32.add
  i32.load
  local.tee $3
  i32.const 2
  i32.shl
  memory.fill
  i32.const 144848
  i32.const 1
  i32.store
  local.get $0
  local.get $1
  i32.const 144848
  local.get $2
  local.get $3
  local.get $2
  i32.const 2364
  i32.add
  i32.load
  call $asm/modexp/montMul
 )
 (func $asm/aes/expandKey (param $0 i32) (result i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 v128)
  (local $4 v128)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  local.get $0
  i32.const 2
  i32.shr_s
  local.tee $2
  i32.const 6
  i32.add
  local.tee $6
  i32.const 1
  i32.add
  i32.const 2
  i32.shl
  local.set $7
  i32.const 133216
  i32.const 66640
  local.get $0
  memory.copy
  i32.const 1
  local.set $5
  local.get $2
  i32.const 2
  i32.shl
  i32.const 133212
  i32.add
  i32.load
  local.set $1
  local.get $2
  local.set $0
  loop $for-loop|0
   local.get $0
   local.get $7
   i32.lt_s
   if
    local.get $0
    local.get $2
    i32.rem_s
    local.tee $8
    if
     local.get $8
     i32.const 4
     i32.eq
     local.get $2
     i32.const 6
     i32.gt_s
     i32.and
     if
      i32.const 132704
      v128.load
      local.get $1
      i32x4.splat
      local.tee $4
      i8x16.swizzle
      local.set $3
      i32.const 1
      local.set $1
      loop $for-loop|2
       local.get $1
       i32.const 16
       i32.lt_u
       if
        local.get $3
        local.get $1
        i32.const 4
        i32.shl
        i32.const 132704
        i32.add
        v128.load
        local.get $4
        v128.const i32x4 0x10101010 0x10101010 0x10101010 0x10101010
        i8x16.sub
        local.tee $4
        i8x16.swizzle
        v128.or
        local.set $3
        local.get $1
        i32.const 1
        i32.add
        local.set $1
        br $for-loop|2
       end
      end
      local.get $3
      i32x4.extract_lane 0
      local.set $1
     end
    else
     i32.const 132704
     v128.load
     local.get $1
     i32.const 8
     i32.rotr
     i32x4.splat
     local.tee $4
     i8x16.swizzle
     local.set $3
     i32.const 1
     local.set $1
     loop $for-loop|1
      local.get $1
      i32.const 16
      i32.lt_u
      if
       local.get $3
       local.get $1
       i32.const 4
       i32.shl
       i32.const 132704
       i32.add
       v128.load
       local.get $4
       v128.const i32x4 0x10101010 0x10101010 0x10101010 0x10101010
       i8x16.sub
       local.tee $4
       i8x16.swizzle
       v128.or
       local.set $3
       local.get $1
       i32.const 1
       i32.add
       local.set $1
       br $for-loop|1
      end
     end
     local.get $5
     local.get $3
     i32x4.extract_lane 0
     i32.xor
     local.set $1
     local.get $5
     i32.const 7
     i32.shr_u
     i32.const 27
     i32.mul
     local.get $5
     i32.const 1
     i32.shl
     i32.xor
     i32.const 255
     i32.and
     local.set $5
    end
    local.get $0
    i32.const 2
    i32.shl
    i32.const 133216
    i32.add
    local.get $1
    local.get $0
    local.get $2
    i32.sub
    i32.const 2
    i32.shl
    i32.const 133216
    i32.add
    i32.load
    i32.xor
    local.tee $1
    i32.store
    local.get $0
    i32.const 1
    i32.add
    local.set $0
    br $for-loop|0
   end
  end
  local.get $6
 )
 (func $asm/aes/encryptBlock (param $0 v128) (param $1 i32) (result v128)
  (local $2 v128)
  (local $3 i32)
  (local $4 i32)
  (local $5 v128)
  local.get $0
  i32.const 133216
  v128.load
  v128.xor
  local.set $0
  i32.const 1
  local.set $3
  loop $for-loop|0
   local.get $1
   local.get $3
   i32.gt_s
   if
    i32.const 132704
    v128.load
    local.get $0
    i8x16.swizzle
    local.set $2
    i32.const 1
    local.set $4
    loop $for-loop|1
     local.get $4
     i32.const 16
     i32.lt_u
     if
      local.get $2
      local.get $4
      i32.const 4
      i32.shl
      i32.const 132704
      i32.add
      v128.load
      local.get $0
      v128.const i32x4 0x10101010 0x10101010 0x10101010 0x10101010
      i8x16.sub
      local.tee $0
      i8x16.swizzle
      v128.or
      local.set $2
      local.get $4
      i32.const 1
      i32.add
      local.set $4
      br $for-loop|1
     end
    end
    local.get $2
    local.get $2
    i8x16.shuffle 0 5 10 15 4 9 14 3 8 13 2 7 12 1 6 11
    local.tee $2
    local.get $2
    i8x16.shuffle 1 2 3 0 5 6 7 4 9 10 11 8 13 14 15 12
    local.set $5
    local.get $2
    local.get $5
    v128.xor
    local.tee $0
    local.get $0
    i8x16.add
    local.get $0
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    i8x16.lt_s
    v128.const i32x4 0x1b1b1b1b 0x1b1b1b1b 0x1b1b1b1b 0x1b1b1b1b
    v128.and
    v128.xor
    local.get $5
    v128.xor
    local.get $2
    local.get $2
    i8x16.shuffle 2 3 0 1 6 7 4 5 10 11 8 9 14 15 12 13
    local.get $2
    local.get $2
    i8x16.shuffle 3 0 1 2 7 4 5 6 11 8 9 10 15 12 13 14
    v128.xor
    v128.xor
    local.get $3
    i32.const 4
    i32.shl
    i32.const 133216
    i32.add
    v128.load
    v128.xor
    local.set $0
    local.get $3
    i32.const 1
    i32.add
    local.set $3
    br $for-loop|0
   end
  end
  i32.const 132704
  v128.load
  local.get $0
  i8x16.swizzle
  local.set $2
  i32.const 1
  local.set $3
  loop $for-loop|2
   local.get $3
   i32.const 16
   i32.lt_u
   if
    local.get $2
    local.get $3
    i32.const 4
    i32.shl
    i32.const 132704
    i32.add
    v128.load
    local.get $0
    v128.const i32x4 0x10101010 0x10101010 0x10101010 0x10101010
    i8x16.sub
    local.tee $0
    i8x16.swizzle
    v128.or
    local.set $2
    local.get $3
    i32.const 1
    i32.add
    local.set $3
    br $for-loop|2
   end
  end
  local.get $2
  local.get $2
  i8x16.shuffle 0 5 10 15 4 9 14 3 8 13 2 7 12 1 6 11
  local.get $1
  i32.const 4
  i32.shl
  i32.const 133216
  i32.add
  v128.load
  v128.xor
 )
 (func $asm/aes/decryptBlock (param $0 v128) (param $1 i32) (result v128)
  (local $2 v128)
  (local $3 i32)
  (local $4 v128)
  local.get $0
  local.get $1
  i32.const 4
  i32.shl
  i32.const 133216
  i32.add
  v128.load
  v128.xor
  local.set $0
  local.get $1
  i32.const 1
  i32.sub
  local.set $1
  loop $for-loop|0
   local.get $1
   i32.const 0
   i32.gt_s
   if
    i32.const 132960
    v128.load
    local.get $0
    local.get $0
    i8x16.shuffle 0 13 10 7 4 1 14 11 8 5 2 15 12 9 6 3
    local.tee $2
    i8x16.swizzle
    local.set $0
    i32.const 1
    local.set $3
    loop $for-loop|1
     local.get $3
     i32.const 16
     i32.lt_u
     if
      local.get $0
      local.get $3
      i32.const 4
      i32.shl
      i32.const 132960
      i32.add
      v128.load
      local.get $2
      v128.const i32x4 0x10101010 0x10101010 0x10101010 0x10101010
      i8x16.sub
      local.tee $2
      i8x16.swizzle
      v128.or
      local.set $0
      local.get $3
      i32.const 1
      i32.add
      local.set $3
      br $for-loop|1
     end
    end
    local.get $0
    local.get $1
    i32.const 4
    i32.shl
    i32.const 133216
    i32.add
    v128.load
    v128.xor
    local.tee $0
    local.get $0
    local.get $0
    i8x16.shuffle 2 3 0 1 6 7 4 5 10 11 8 9 14 15 12 13
    v128.xor
    local.tee $2
    local.get $2
    i8x16.add
    local.get $2
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    i8x16.lt_s
    v128.const i32x4 0x1b1b1b1b 0x1b1b1b1b 0x1b1b1b1b 0x1b1b1b1b
    v128.and
    v128.xor
    local.set $2
    local.get $0
    local.get $2
    local.get $2
    i8x16.add
    local.get $2
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    i8x16.lt_s
    v128.const i32x4 0x1b1b1b1b 0x1b1b1b1b 0x1b1b1b1b 0x1b1b1b1b
    v128.and
    v128.xor
    v128.xor
    local.tee $2
    local.get $2
    i8x16.shuffle 1 2 3 0 5 6 7 4 9 10 11 8 13 14 15 12
    local.set $4
    local.get $2
    local.get $4
    v128.xor
    local.tee $0
    local.get $0
    i8x16.add
    local.get $0
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    i8x16.lt_s
    v128.const i32x4 0x1b1b1b1b 0x1b1b1b1b 0x1b1b1b1b 0x1b1b1b1b
    v128.and
    v128.xor
    local.get $4
    v128.xor
    local.get $2
    local.get $2
    i8x16.shuffle 2 3 0 1 6 7 4 5 10 11 8 9 14 15 12 13
    local.get $2
    local.get $2
    i8x16.shuffle 3 0 1 2 7 4 5 6 11 8 9 10 15 12 13 14
    v128.xor
    v128.xor
    local.set $0
    local.get $1
    i32.const 1
    i32.sub
    local.set $1
    br $for-loop|0
   end
  end
  i32.const 132960
  v128.load
  local.get $0
  local.get $0
  i8x16.shuffle 0 13 10 7 4 1 14 11 8 5 2 15 12 9 6 3
  local.tee $2
  i8x16.swizzle
  local.set $0
  i32.const 1
  local.set $1
  loop $for-loop|2
   local.get $1
   i32.const 16
   i32.lt_u
   if
    local.get $0
    local.get $1
    i32.const 4
    i32.shl
    i32.const 132960
    i32.add
    v128.load
    local.get $2
    v128.const i32x4 0x10101010 0x10101010 0x10101010 0x10101010
    i8x16.sub
    local.tee $2
    i8x16.swizzle
    v128.or
    local.set $0
    local.get $1
    i32.const 1
    i32.add
    local.set $1
    br $for-loop|2
   end
  end
  local.get $0
  i32.const 133216
  v128.load
  v128.xor
 )
 (func $~start
  (local $0 i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  call $asm/tdes/buildTables
  loop $for-loop|0
   local.get $3
   i32.const 256
   i32.lt_u
   if
    i32.const 1
    local.set $0
    i32.const 0
    local.set $4
    loop $for-loop|1
     local.get $4
     i32.const 254
     i32.lt_s
     if
      local.get $3
      local.set $2
      i32.const 0
      local.set $1
      i32.const 0
      local.set $5
      loop $for-loop|00
       local.get $5
       i32.const 8
       i32.lt_s
       if
        local.get $0
        local.get $1
        i32.xor
        local.get $1
        local.get $2
        i32.const 1
        i32.and
        select
        local.set $1
        local.get $0
        i32.const 7
        i32.shr_u
        i32.const 27
        i32.mul
        local.get $0
        i32.const 1
        i32.shl
        i32.xor
        i32.const 255
        i32.and
        local.set $0
        local.get $2
        i32.const 1
        i32.shr_u
        local.set $2
        local.get $5
        i32.const 1
        i32.add
        local.set $5
        br $for-loop|00
       end
      end
      local.get $1
      local.set $0
      local.get $4
      i32.const 1
      i32.add
      local.set $4
      br $for-loop|1
     end
    end
    local.get $0
    i32.const 0
    local.get $3
    select
    local.tee $0
    local.set $2
    i32.const 1
    local.set $4
    loop $for-loop|2
     local.get $4
     i32.const 4
     i32.le_u
     if
      local.get $2
      local.get $0
      local.get $4
      i32.shl
      local.get $0
      i32.const 8
      local.get $4
      i32.sub
      i32.shr_u
      i32.or
      i32.const 255
      i32.and
      i32.xor
      local.set $2
      local.get $4
      i32.const 1
      i32.add
      local.set $4
      br $for-loop|2
     end
    end
    local.get $3
    i32.const 132704
    i32.add
    local.get $2
    i32.const 99
    i32.xor
    local.tee $0
    i32.store8
    local.get $0
    i32.const 132960
    i32.add
    local.get $3
    i32.store8
    local.get $3
    i32.const 1
    i32.add
    local.set $3
    br $for-loop|0
   end
  end
 )
 (func $asm/tdes/tdesEcb (param $0 i32) (param $1 i32) (param $2 i32)
  (local $3 i64)
  local.get $0
  local.get $2
  i32.const 0
  i32.ne
  call $asm/tdes/tdesSchedule
  i32.const 0
  local.set $0
  loop $for-loop|0
   local.get $0
   local.get $1
   i32.lt_s
   if
    local.get $0
    i32.const 1024
    i32.add
    local.tee $2
    i64.load
    local.tee $3
    i64.const 8
    i64.shr_u
    i64.const 71777214294589695
    i64.and
    local.get $3
    i64.const 71777214294589695
    i64.and
    i64.const 8
    i64.shl
    i64.or
    local.tee $3
    i64.const 16
    i64.shr_u
    i64.const 281470681808895
    i64.and
    local.get $3
    i64.const 281470681808895
    i64.and
    i64.const 16
    i64.shl
    i64.or
    i64.const 32
    i64.rotr
    call $asm/tdes/block
    local.tee $3
    i64.const 8
    i64.shr_u
    i64.const 71777214294589695
    i64.and
    local.get $3
    i64.const 71777214294589695
    i64.and
    i64.const 8
    i64.shl
    i64.or
    local.set $3
    local.get $2
    local.get $3
    i64.const 16
    i64.shr_u
    i64.const 281470681808895
    i64.and
    local.get $3
    i64.const 281470681808895
    i64.and
    i64.const 16
    i64.shl
    i64.or
    i64.const 32
    i64.rotr
    i64.store
    local.get $0
    i32.const 8
    i32.add
    local.set $0
    br $for-loop|0
   end
  end
  i32.const 132320
  i32.const 0
  i32.const 384
  memory.fill
 )
 (func $asm/tdes/tdesCbc (param $0 i32) (param $1 i32) (param $2 i32)
  (local $3 i64)
  (local $4 i64)
  local.get $0
  local.get $2
  i32.const 0
  i32.ne
  call $asm/tdes/tdesSchedule
  i32.const 66592
  i64.load
  local.tee $3
  i64.const 8
  i64.shr_u
  i64.const 71777214294589695
  i64.and
  local.get $3
  i64.const 71777214294589695
  i64.and
  i64.const 8
  i64.shl
  i64.or
  local.tee $3
  i64.const 16
  i64.shr_u
  i64.const 281470681808895
  i64.and
  local.get $3
  i64.const 281470681808895
  i64.and
  i64.const 16
  i64.shl
  i64.or
  i64.const 32
  i64.rotr
  local.set $4
  local.get $2
  if
   i32.const 0
   local.set $2
   loop $for-loop|0
    local.get $1
    local.get $2
    i32.gt_s
    if
     local.get $2
     i32.const 1024
     i32.add
     local.tee $0
     i64.load
     local.tee $3
     i64.const 8
     i64.shr_u
     i64.const 71777214294589695
     i64.and
     local.get $3
     i64.const 71777214294589695
     i64.and
     i64.const 8
     i64.shl
     i64.or
     local.tee $3
     i64.const 16
     i64.shr_u
     i64.const 281470681808895
     i64.and
     local.get $3
     i64.const 281470681808895
     i64.and
     i64.const 16
     i64.shl
     i64.or
     i64.const 32
     i64.rotr
     local.tee $3
     call $asm/tdes/block
     local.get $4
     i64.xor
     local.tee $4
     i64.const 8
     i64.shr_u
     i64.const 71777214294589695
     i64.and
     local.get $4
     i64.const 71777214294589695
     i64.and
     i64.const 8
     i64.shl
     i64.or
     local.set $4
     local.get $0
     local.get $4
     i64.const 16
     i64.shr_u
     i64.const 281470681808895
     i64.and
     local.get $4
     i64.const 281470681808895
     i64.and
     i64.const 16
     i64.shl
     i64.or
     i64.const 32
     i64.rotr
     i64.store
     local.get $3
     local.set $4
     local.get $2
     i32.const 8
     i32.add
     local.set $2
     br $for-loop|0
    end
   end
  else
   i32.const 0
   local.set $2
   loop $for-loop|1
    local.get $1
    local.get $2
    i32.gt_s
    if
     local.get $4
     local.get $2
     i32.const 1024
     i32.add
     local.tee $0
     i64.load
     local.tee $3
     i64.const 8
     i64.shr_u
     i64.const 71777214294589695
     i64.and
     local.get $3
     i64.const 71777214294589695
     i64.and
     i64.const 8
     i64.shl
     i64.or
     local.tee $3
     i64.const 16
     i64.shr_u
     i64.const 281470681808895
     i64.and
     local.get $3
     i64.const 281470681808895
     i64.and
     i64.const 16
     i64.shl
     i64.or
     i64.const 32
     i64.rotr
     i64.xor
     call $asm/tdes/block
     local.tee $4
     i64.const 8
     i64.shr_u
     i64.const 71777214294589695
     i64.and
     local.get $4
     i64.const 71777214294589695
     i64.and
     i64.const 8
     i64.shl
     i64.or
     local.set $3
     local.get $0
     local.get $3
     i64.const 16
     i64.shr_u
     i64.const 281470681808895
     i64.and
     local.get $3
     i64.const 281470681808895
     i64.and
     i64.const 16
     i64.shl
     i64.or
     i64.const 32
     i64.rotr
     i64.store
     local.get $2
     i32.const 8
     i32.add
     local.set $2
     br $for-loop|1
    end
   end
  end
  i32.const 66592
  local.get $4
  i64.const 8
  i64.shr_u
  i64.const 71777214294589695
  i64.and
  local.get $4
  i64.const 71777214294589695
  i64.and
  i64.const 8
  i64.shl
  i64.or
  local.tee $3
  i64.const 16
  i64.shr_u
  i64.const 281470681808895
  i64.and
  local.get $3
  i64.const 281470681808895
  i64.and
  i64.const 16
  i64.shl
  i64.or
  i64.const 32
  i64.rotr
  i64.store
  i32.const 132320
  i32.const 0
  i32.const 384
  memory.fill
 )
 (func $asm/tdes/buildTables
  (local $0 i64)
  (local $1 i32)
  (local $2 i64)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  loop $for-loop|0
   local.get $5
   i32.const 8
   i32.lt_s
   if
    i32.const 0
    local.set $4
    loop $for-loop|1
     local.get $4
     i32.const 64
     i32.lt_s
     if
      local.get $5
      i32.const 6
      i32.shl
      local.get $4
      i32.const 4
      i32.shr_s
      i32.const 2
      i32.and
      local.get $4
      i32.const 1
      i32.and
      i32.or
      i32.const 4
      i32.shl
      i32.add
      local.get $4
      i32.const 1
      i32.shr_s
      i32.const 15
      i32.and
      i32.add
      i32.const 71968
      i32.add
      i32.load8_u
      i32.const 28
      local.get $5
      i32.const 2
      i32.shl
      i32.sub
      i32.shl
      local.set $6
      i32.const 0
      local.set $1
      i32.const 1
      local.set $3
      loop $for-loop|2
       local.get $3
       i32.const 32
       i32.le_s
       if
        local.get $6
        i32.const 32
        local.get $3
        i32.const 71935
        i32.add
        i32.load8_u
        i32.sub
        i32.shr_u
        i32.const 1
        i32.and
        if
         local.get $1
         i32.const 1
         i32.const 32
         local.get $3
         i32.sub
         i32.shl
         i32.or
         local.set $1
        end
        local.get $3
        i32.const 1
        i32.add
        local.set $3
        br $for-loop|2
       end
      end
      local.get $5
      i32.const 6
      i32.shl
      local.get $4
      i32.add
      i32.const 2
      i32.shl
      i32.const 72928
      i32.add
      local.get $1
      i32.store
      local.get $4
      i32.const 1
      i32.add
      local.set $4
      br $for-loop|1
     end
    end
    local.get $5
    i32.const 1
    i32.add
    local.set $5
    br $for-loop|0
   end
  end
  i32.const 0
  local.set $4
  loop $for-loop|3
   local.get $4
   i32.const 8
   i32.lt_s
   if
    i32.const 0
    local.set $5
    loop $for-loop|4
     local.get $5
     i32.const 256
     i32.lt_s
     if
      i64.const 0
      local.set $0
      i64.const 0
      local.set $2
      i32.const 1
      local.set $3
      loop $for-loop|5
       local.get $3
       i32.const 64
       i32.le_s
       if
        local.get $3
        i32.const 71807
        i32.add
        i32.load8_u
        i32.const 1
        i32.sub
        local.tee $1
        i32.const 3
        i32.shr_s
        local.get $4
        i32.eq
        if (result i32)
         local.get $5
         i32.const 7
         local.get $1
         i32.const 7
         i32.and
         i32.sub
         i32.shr_s
         i32.const 1
         i32.and
        else
         i32.const 0
        end
        if
         local.get $0
         i64.const 1
         i64.const 64
         local.get $3
         i64.extend_i32_s
         i64.sub
         i64.shl
         i64.or
         local.set $0
        end
        local.get $3
        i32.const 71871
        i32.add
        i32.load8_u
        i32.const 1
        i32.sub
        local.tee $1
        i32.const 3
        i32.shr_s
        local.get $4
        i32.eq
        if (result i32)
         local.get $5
         i32.const 7
         local.get $1
         i32.const 7
         i32.and
         i32.sub
         i32.shr_s
         i32.const 1
         i32.and
        else
         i32.const 0
        end
        if
         local.get $2
         i64.const 1
         i64.const 64
         local.get $3
         i64.extend_i32_s
         i64.sub
         i64.shl
         i64.or
         local.set $2
        end
        local.get $3
        i32.const 1
        i32.add
        local.set $3
        br $for-loop|5
       end
      end
      local.get $4
      i32.const 8
      i32.shl
      local.get $5
      i32.add
      i32.const 3
      i32.shl
      local.tee $1
      i32.const 74976
      i32.add
      local.get $0
      i64.store
      local.get $1
      i32.const 91360
      i32.add
      local.get $2
      i64.store
      local.get $5
      i32.const 1
      i32.add
      local.set $5
      br $for-loop|4
     end
    end
    local.get $4
    i32.const 1
    i32.add
    local.set $4
    br $for-loop|3
   end
  end
  i32.const 0
  local.set $4
  loop $for-loop|6
   local.get $4
   i32.const 8
   i32.lt_s
   if
    i32.const 0
    local.set $5
    loop $for-loop|7
     local.get $5
     i32.const 256
     i32.lt_s
     if
      i64.const 0
      local.set $0
      i32.const 1
      local.set $3
      loop $for-loop|8
       local.get $3
       i32.const 56
       i32.le_s
       if
        local.get $3
        i32.const 72479
        i32.add
        i32.load8_u
        i32.const 1
        i32.sub
        local.tee $1
        i32.const 3
        i32.shr_s
        local.get $4
        i32.eq
        if (result i32)
         local.get $5
         i32.const 7
         local.get $1
         i32.const 7
         i32.and
         i32.sub
         i32.shr_s
         i32.const 1
         i32.and
        else
         i32.const 0
        end
        if
         local.get $0
         i64.const 1
         i64.const 56
         local.get $3
         i64.extend_i32_s
         i64.sub
         i64.shl
         i64.or
         local.set $0
        end
        local.get $3
        i32.const 1
        i32.add
        local.set $3
        br $for-loop|8
       end
      end
      local.get $4
      i32.const 8
      i32.shl
      local.get $5
      i32.add
      i32.const 3
      i32.shl
      i32.const 107744
      i32.add
      local.get $0
      i64.store
      local.get $5
      i32.const 1
      i32.add
      local.set $5
      br $for-loop|7
     end
    end
    local.get $4
    i32.const 1
    i32.add
    local.set $4
    br $for-loop|6
   end
  end
  i32.const 0
  local.set $5
  loop $for-loop|9
   local.get $5
   i32.const 8
   i32.lt_s
   if
    i32.const 0
    local.set $3
    loop $for-loop|10
     local.get $3
     i32.const 128
     i32.lt_s
     if
      i64.const 0
      local.set $0
      i32.const 1
      local.set $4
      loop $for-loop|11
       local.get $4
       i32.const 48
       i32.le_s
       if
        local.get $4
        i32.const 72535
        i32.add
        i32.load8_u
        i32.const 1
        i32.sub
        local.tee $1
        i32.const 7
        i32.div_s
        local.get $5
        i32.ne
        if (result i32)
         i32.const 0
        else
         local.get $3
         i32.const 6
         local.get $1
         i32.const 7
         i32.rem_s
         i32.sub
         i32.shr_s
         i32.const 1
         i32.and
        end
        if
         local.get $4
         i32.const 1
         i32.sub
         local.tee $1
         i32.const 6
         i32.div_s
         local.set $6
         local.get $0
         i64.const 1
         i32.const 0
         local.get $1
         i32.const 6
         i32.rem_s
         i32.sub
         local.get $6
         i32.const 1
         i32.shr_s
         i32.const 3
         i32.shl
         i32.sub
         i32.const 31
         i32.add
         i32.const 0
         i32.const 32
         local.get $6
         i32.const 1
         i32.and
         select
         i32.add
         i64.extend_i32_s
         i64.shl
         i64.or
         local.set $0
        end
        local.get $4
        i32.const 1
        i32.add
        local.set $4
        br $for-loop|11
       end
      end
      local.get $5
      i32.const 7
      i32.shl
      local.get $3
      i32.add
      i32.const 3
      i32.shl
      i32.const 124128
      i32.add
      local.get $0
      i64.store
      local.get $3
      i32.const 1
      i32.add
      local.set $3
      br $for-loop|10
     end
    end
    local.get $5
    i32.const 1
    i32.add
    local.set $5
    br $for-loop|9
   end
  end
 )
 (func $asm/sha256/sha256Wipe
  i32.const 133872
  i32.const 0
  i32.const 32
  memory.fill
  i32.const 133904
  i32.const 0
  i32.const 64
  memory.fill
  i32.const 0
  global.set $asm/sha256/pendingLen
  i64.const 0
  global.set $asm/sha256/totalLen
 )
 (func $asm/sha256/sha256Init
  i32.const 133872
  i32.const 72864
  i32.const 32
  memory.copy
  i32.const 0
  global.set $asm/sha256/pendingLen
  i64.const 0
  global.set $asm/sha256/totalLen
 )
 (func $asm/sha256/sha256 (param $0 i32)
  i32.const 133872
  i32.const 72864
  i32.const 32
  memory.copy
  i32.const 0
  global.set $asm/sha256/pendingLen
  i64.const 0
  global.set $asm/sha256/totalLen
  local.get $0
  call $asm/sha256/sha256Update
  call $asm/sha256/sha256Final
  i32.const 1024
  i32.const 0
  local.get $0
  memory.fill
 )
 (func $asm/sha1/sha1Wipe
  i32.const 133456
  i32.const 0
  i32.const 20
  memory.fill
  i32.const 133488
  i32.const 0
  i32.const 320
  memory.fill
  i32.const 133808
  i32.const 0
  i32.const 64
  memory.fill
  i32.const 0
  global.set $asm/sha1/pendingLen
  i64.const 0
  global.set $asm/sha1/totalLen
 )
 (func $asm/sha1/sha1Init
  i32.const 133456
  i32.const 72896
  i32.const 20
  memory.copy
  i32.const 0
  global.set $asm/sha1/pendingLen
  i64.const 0
  global.set $asm/sha1/totalLen
 )
 (func $asm/sha1/sha1 (param $0 i32)
  i32.const 133456
  i32.const 72896
  i32.const 20
  memory.copy
  i32.const 0
  global.set $asm/sha1/pendingLen
  i64.const 0
  global.set $asm/sha1/totalLen
  local.get $0
  call $asm/sha1/sha1Update
  call $asm/sha1/sha1Final
  i32.const 1024
  i32.const 0
  local.get $0
  memory.fill
 )
 (func $asm/rsa/rsaPrivate (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32) (param $5 i32) (result i32)
  (local $6 i64)
  (local $7 i64)
  (local $8 i64)
  (local $9 i32)
  i32.const 136344
  i32.const 67200
  local.get $1
  call $asm/modexp/setModulus
  i32.const 138720
  i32.const 67712
  local.get $2
  call $asm/modexp/setModulus
  i32.const 138704
  i32.load
  local.set $2
  i32.const 141080
  i32.load
  local.set $9
  i32.const 168304
  i32.const 66688
  local.get $0
  i32.const 1
  local.get $0
  i32.const 3
  i32.shl
  i32.const 26
  i32.add
  i32.const 27
  i32.div_s
  local.tee $0
  local.get $0
  i32.const 1
  i32.le_s
  select
  local.tee $0
  call $asm/modexp/bytesToDigits
  i32.const 169552
  i32.const 168304
  local.get $0
  i32.const 136344
  call $asm/rsa/reduceToMont
  i32.const 68224
  local.get $3
  local.get $2
  call $asm/modexp/loadExponent
  i32.const 170176
  i32.const 169552
  local.get $2
  i32.const 27
  i32.mul
  local.get $2
  i32.const 136344
  call $asm/modexp/powMont
  i32.const 169552
  i32.const 168304
  local.get $0
  i32.const 138720
  call $asm/rsa/reduceToMont
  i32.const 68736
  local.get $4
  local.get $9
  call $asm/modexp/loadExponent
  i32.const 170800
  i32.const 169552
  local.get $9
  i32.const 27
  i32.mul
  local.get $9
  i32.const 138720
  call $asm/modexp/powMont
  i32.const 170800
  i32.const 170800
  i32.const 138720
  call $asm/modexp/fromMont
  i32.const 171424
  i32.const 170800
  local.get $9
  i32.const 136344
  call $asm/rsa/reduceToMont
  i32.const 0
  local.set $4
  i32.const 0
  local.set $3
  loop $for-loop|0
   local.get $2
   local.get $4
   i32.gt_s
   if
    local.get $4
    i32.const 2
    i32.shl
    local.tee $0
    i32.const 170176
    i32.add
    local.tee $1
    i32.load
    local.get $0
    i32.const 171424
    i32.add
    i32.load
    i32.sub
    local.get $3
    i32.sub
    local.set $0
    local.get $1
    local.get $0
    i32.const 134217727
    i32.and
    i32.store
    local.get $0
    i32.const 31
    i32.shr_u
    local.set $3
    local.get $4
    i32.const 1
    i32.add
    local.set $4
    br $for-loop|0
   end
  end
  i32.const 0
  local.set $1
  i32.const 0
  local.set $4
  loop $for-loop|00
   local.get $2
   local.get $4
   i32.gt_s
   if
    local.get $1
    local.get $4
    i32.const 2
    i32.shl
    local.tee $0
    i32.const 170176
    i32.add
    i32.load
    local.get $0
    i32.const 136344
    i32.add
    i32.load
    i32.add
    i32.add
    local.set $1
    local.get $0
    i32.const 144224
    i32.add
    local.get $1
    i32.const 134217727
    i32.and
    i32.store
    local.get $1
    i32.const 27
    i32.shr_u
    local.set $1
    local.get $4
    i32.const 1
    i32.add
    local.set $4
    br $for-loop|00
   end
  end
  i32.const 0
  local.get $3
  i32.sub
  local.set $0
  i32.const 0
  local.set $4
  loop $for-loop|01
   local.get $2
   local.get $4
   i32.gt_s
   if
    local.get $4
    i32.const 2
    i32.shl
    local.tee $1
    i32.const 170176
    i32.add
    local.tee $3
    local.get $0
    local.get $1
    i32.const 144224
    i32.add
    i32.load
    i32.and
    local.get $3
    i32.load
    local.get $0
    i32.const -1
    i32.xor
    i32.and
    i32.or
    i32.store
    local.get $4
    i32.const 1
    i32.add
    local.set $4
    br $for-loop|01
   end
  end
  i32.const 172048
  i32.const 69248
  local.get $5
  local.get $2
  call $asm/modexp/bytesToDigits
  i32.const 172672
  i32.const 170176
  i32.const 172048
  i32.const 136344
  local.get $2
  i32.const 138708
  i32.load
  call $asm/modexp/montMul
  i32.const 173296
  i32.const 0
  local.get $2
  local.get $9
  i32.add
  local.tee $1
  i32.const 2
  i32.shl
  memory.fill
  i32.const 173296
  i32.const 170800
  local.get $9
  i32.const 2
  i32.shl
  memory.copy
  i32.const 0
  local.set $0
  loop $for-loop|02
   local.get $0
   local.get $2
   i32.lt_s
   if
    local.get $0
    i32.const 2
    i32.shl
    i32.const 172672
    i32.add
    i64.load32_u
    local.set $8
    i64.const 0
    local.set $7
    i32.const 0
    local.set $3
    loop $for-loop|1
     local.get $3
     local.get $9
     i32.lt_s
     if
      local.get $0
      local.get $3
      i32.add
      i32.const 2
      i32.shl
      i32.const 173296
      i32.add
      local.tee $4
      i64.load32_u
      local.get $8
      local.get $3
      i32.const 2
      i32.shl
      i32.const 138720
      i32.add
      i64.load32_u
      i64.mul
      i64.add
      local.get $7
      i64.add
      local.set $7
      local.get $4
      local.get $7
      i32.wrap_i64
      i32.const 134217727
      i32.and
      i32.store
      local.get $7
      i64.const 27
      i64.shr_u
      local.set $7
      local.get $3
      i32.const 1
      i32.add
      local.set $3
      br $for-loop|1
     end
    end
    local.get $0
    local.get $9
    i32.add
    i32.const 2
    i32.shl
    i32.const 173296
    i32.add
    local.get $7
    i64.store32
    local.get $0
    i32.const 1
    i32.add
    local.set $0
    br $for-loop|02
   end
  end
  i32.const 0
  local.set $5
  i32.const 0
  local.set $3
  local.get $1
  i32.const 27
  i32.mul
  i32.const 7
  i32.add
  i32.const 3
  i32.shr_s
  local.tee $2
  i32.const 1
  i32.sub
  local.set $4
  loop $for-loop|03
   local.get $4
   i32.const 0
   i32.ge_s
   if
    local.get $5
    i32.const 8
    i32.lt_s
    local.get $1
    local.get $3
    i32.gt_s
    i32.and
    if
     local.get $3
     local.tee $0
     i32.const 1
     i32.add
     local.set $3
     local.get $6
     local.get $0
     i32.const 2
     i32.shl
     i32.const 173296
     i32.add
     i64.load32_u
     local.get $5
     i64.extend_i32_s
     i64.shl
     i64.or
     local.set $6
     local.get $5
     i32.const 27
     i32.add
     local.set $5
    end
    local.get $4
    i32.const 69760
    i32.add
    local.get $6
    i64.store8
    local.get $6
    i64.const 8
    i64.shr_u
    local.set $6
    local.get $5
    i32.const 8
    i32.sub
    local.set $5
    local.get $4
    i32.const 1
    i32.sub
    local.set $4
    br $for-loop|03
   end
  end
  i32.const 168304
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 168928
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 169552
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 170176
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 170800
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 171424
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 172048
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 172672
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 173296
  i32.const 0
  i32.const 1232
  memory.fill
  i32.const 136344
  i32.const 0
  i32.const 2376
  memory.fill
  i32.const 138720
  i32.const 0
  i32.const 2376
  memory.fill
  i32.const 141104
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 141728
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 142352
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 142976
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 143600
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 144224
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 145472
  i32.const 0
  i32.const 19712
  memory.fill
  i32.const 165184
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 165808
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 166432
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 167056
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 167680
  i32.const 0
  i32.const 616
  memory.fill
  local.get $2
 )
 (func $asm/modexp/modPow (param $0 i32) (param $1 i32) (param $2 i32) (result i32)
  (local $3 i32)
  (local $4 i64)
  (local $5 i32)
  i32.const 133968
  i32.const 67712
  local.get $2
  call $asm/modexp/setModulus
  i32.const 167056
  i32.const 66688
  local.get $0
  i32.const 136328
  i32.load
  local.tee $5
  call $asm/modexp/bytesToDigits
  i32.const 167680
  i32.const 167056
  i32.const 134584
  i32.const 133968
  i32.const 136328
  i32.load
  i32.const 136332
  i32.load
  call $asm/modexp/montMul
  i32.const 67200
  local.get $1
  i32.const 1
  local.get $1
  local.get $1
  i32.const 1
  i32.le_s
  select
  i32.const 3
  i32.shl
  local.tee $0
  i32.const 26
  i32.add
  i32.const 27
  i32.div_s
  local.tee $1
  call $asm/modexp/loadExponent
  i32.const 167056
  i32.const 167680
  local.get $0
  local.get $1
  i32.const 133968
  call $asm/modexp/powMont
  i32.const 167680
  i32.const 167056
  i32.const 133968
  call $asm/modexp/fromMont
  i32.const 0
  local.set $1
  local.get $2
  i32.const 1
  i32.sub
  local.set $0
  loop $for-loop|0
   local.get $0
   i32.const 0
   i32.ge_s
   if
    local.get $3
    i32.const 8
    i32.lt_s
    local.get $1
    local.get $5
    i32.lt_s
    i32.and
    if
     local.get $4
     local.get $1
     i32.const 2
     i32.shl
     i32.const 167680
     i32.add
     i64.load32_u
     local.get $3
     i64.extend_i32_s
     i64.shl
     i64.or
     local.set $4
     local.get $3
     i32.const 27
     i32.add
     local.set $3
     local.get $1
     i32.const 1
     i32.add
     local.set $1
    end
    local.get $0
    i32.const 69760
    i32.add
    local.get $4
    i64.store8
    local.get $4
    i64.const 8
    i64.shr_u
    local.set $4
    local.get $3
    i32.const 8
    i32.sub
    local.set $3
    local.get $0
    i32.const 1
    i32.sub
    local.set $0
    br $for-loop|0
   end
  end
  i32.const 141104
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 141728
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 142352
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 142976
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 143600
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 144224
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 145472
  i32.const 0
  i32.const 19712
  memory.fill
  i32.const 165184
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 165808
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 166432
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 167056
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 167680
  i32.const 0
  i32.const 616
  memory.fill
  local.get $2
 )
 (func $asm/modexp/bnWipe
  i32.const 141104
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 141728
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 142352
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 142976
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 143600
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 144224
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 145472
  i32.const 0
  i32.const 19712
  memory.fill
  i32.const 165184
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 165808
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 166432
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 167056
  i32.const 0
  i32.const 616
  memory.fill
  i32.const 167680
  i32.const 0
  i32.const 616
  memory.fill
 )
 (func $asm/index/keyPtr (result i32)
  i32.const 66560
 )
 (func $asm/index/ivPtr (result i32)
  i32.const 66592
 )
 (func $asm/index/ioSize (result i32)
  i32.const 65536
 )
 (func $asm/index/ioPtr (result i32)
  i32.const 1024
 )
 (func $asm/index/digestPtr (result i32)
  i32.const 66608
 )
 (func $asm/index/bnSlotSize (result i32)
  i32.const 512
 )
 (func $asm/index/bnPtr (result i32)
  i32.const 66688
 )
 (func $asm/index/bnOutPtr (result i32)
  i32.const 69760
 )
 (func $asm/index/aesKeyPtr (result i32)
  i32.const 66640
 )
 (func $asm/index/aesIvPtr (result i32)
  i32.const 66672
 )
 (func $asm/aes/aesEcb (param $0 i32) (param $1 i32) (param $2 i32)
  (local $3 i32)
  local.get $0
  call $asm/aes/expandKey
  local.set $3
  local.get $2
  if
   i32.const 0
   local.set $0
   loop $for-loop|0
    local.get $0
    local.get $1
    i32.lt_s
    if
     local.get $0
     i32.const 1024
     i32.add
     local.tee $2
     local.get $2
     v128.load
     local.get $3
     call $asm/aes/decryptBlock
     v128.store
     local.get $0
     i32.const 16
     i32.add
     local.set $0
     br $for-loop|0
    end
   end
  else
   i32.const 0
   local.set $0
   loop $for-loop|1
    local.get $0
    local.get $1
    i32.lt_s
    if
     local.get $0
     i32.const 1024
     i32.add
     local.tee $2
     local.get $2
     v128.load
     local.get $3
     call $asm/aes/encryptBlock
     v128.store
     local.get $0
     i32.const 16
     i32.add
     local.set $0
     br $for-loop|1
    end
   end
  end
  i32.const 133216
  i32.const 0
  i32.const 240
  memory.fill
 )
 (func $asm/aes/aesCbc (param $0 i32) (param $1 i32) (param $2 i32)
  (local $3 v128)
  (local $4 v128)
  (local $5 i32)
  local.get $0
  call $asm/aes/expandKey
  local.set $5
  i32.const 66672
  v128.load
  local.set $3
  local.get $2
  if
   i32.const 0
   local.set $2
   loop $for-loop|0
    local.get $1
    local.get $2
    i32.gt_s
    if
     local.get $2
     i32.const 1024
     i32.add
     local.tee $0
     v128.load
     local.set $4
     local.get $0
     local.get $4
     local.get $5
     call $asm/aes/decryptBlock
     local.get $3
     v128.xor
     v128.store
     local.get $4
     local.set $3
     local.get $2
     i32.const 16
     i32.add
     local.set $2
     br $for-loop|0
    end
   end
  else
   i32.const 0
   local.set $2
   loop $for-loop|1
    local.get $1
    local.get $2
    i32.gt_s
    if
     local.get $2
     i32.const 1024
     i32.add
     local.tee $0
     v128.load
     local.get $3
     v128.xor
     local.get $5
     call $asm/aes/encryptBlock
     local.set $3
     local.get $0
     local.get $3
     v128.store
     local.get $2
     i32.const 16
     i32.add
     local.set $2
     br $for-loop|1
    end
   end
  end
  i32.const 66672
  local.get $3
  v128.store
  i32.const 133216
  i32.const 0
  i32.const 240
  memory.fill
 )
)

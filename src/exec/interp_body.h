/* interp_body.h — the interpreter's handlers; interp.c includes it once per safety mode.
 *
 * Expects INTERP_FN (the function's name) and CHECKED (0: trust the program,
 * 1: bounds-check every access and count instructions against a budget).
 * Every handler is generated from the instruction table in isa.h: the form's
 * shape picks the handler template, its opcode and discriminating value are
 * constants the compiler folds into a bare operation.
 */

static int INTERP_FN(const struct xinsn *code, struct bpfrt_run *run,
		     struct interp_call *call, const void *const **labels_out,
		     struct bpfrt_error *err)
{
#define LABEL_OF(id, ...) [ISA_##id] = &&H_##id, \
	[L_ADDI64_JCOND + ISA_##id] = &&HA64_##id, \
	[L_ADDI32_JCOND + ISA_##id] = &&HA32_##id, \
	[L_SKIP + ISA_##id] = &&HS_##id, \
	[L_SELECT + ISA_##id] = &&HL_##id,
	static const void *const labels[L_COUNT] = {
		ISA_FORMS(LABEL_OF)
		[L_TRAP] = &&H_TRAP,
		[L_MOVADD_REG] = &&H_MOVADD_REG,
		[L_MOVADD_IMM] = &&H_MOVADD_IMM,
		[L_MOVADD_LDX + 0] = &&H_MA_LDXB_REG, [L_MOVADD_LDX + 1] = &&H_MA_LDXB_IMM,
		[L_MOVADD_LDX + 2] = &&H_MA_LDXH_REG, [L_MOVADD_LDX + 3] = &&H_MA_LDXH_IMM,
		[L_MOVADD_LDX + 4] = &&H_MA_LDXW_REG, [L_MOVADD_LDX + 5] = &&H_MA_LDXW_IMM,
		[L_MOVADD_LDX + 6] = &&H_MA_LDXDW_REG, [L_MOVADD_LDX + 7] = &&H_MA_LDXDW_IMM,
		[L_SWITCH] = &&H_SWITCH,
		[L_ROT + 0] = &&H_ROT32_L, [L_ROT + 1] = &&H_ROT32_R,
		[L_ROT + 2] = &&H_ROT64_L, [L_ROT + 3] = &&H_ROT64_R,
	};
#undef LABEL_OF
	if (!code) {
		*labels_out = labels;
		return 0;
	}

	struct bpfrt_run_opts *opts = run->opts;
	struct {
		const struct xinsn *ret;
		const struct xinsn *code;	/* the caller's program (tail calls change it) */
		const struct bpfrt_prog *prog;
		uint64_t saved[5];	/* r6..r10 */
		uint64_t loops;		/* the caller's may_goto budget */
	} frames[BPFRT_MAX_FRAMES];
	/*
	 * may_goto's budget of the running frame (isa.h): a C variable, so the
	 * program cannot reach it; each call, callback and tail call starts anew.
	 */
	uint64_t loops = ISA_MAY_GOTO_BUDGET;
	/* A callback starts deeper, and returns to its helper from there. */
	unsigned depth = call ? call->depth : 0;
	const unsigned base = depth;
	bool skip = false;		/* if-converted jumps: the condition */
	uint64_t reg[ISA_NREGS] = { 0 };
	const struct xinsn *x = call ? call->start : code;
	uintptr_t fault_addr = 0;
	unsigned fault_size = 0;
	bool fault_write = false;
	const uint64_t limit = opts->budget ? opts->budget : (uint64_t)1 << 32;
	uint64_t budget = call ? run->budget : limit;

	const uintptr_t stack_lo = run->stack_lo;
	const uintptr_t ctx_lo = (uintptr_t)opts->ctx;
	const size_t ctx_len = opts->ctx ? opts->ctx_len : 0;

	(void)budget;
	(void)limit;
	(void)ctx_lo;
	(void)ctx_len;
	if (call) {
		memcpy(&reg[R1], call->args, 5 * sizeof(reg[R1]));
		reg[R10] = stack_lo + RUN_STACK_SIZE - (uint64_t)depth * BPFRT_STACK_SIZE;
	} else {
		reg[R1] = (uintptr_t)opts->ctx;
		reg[R2] = opts->ctx_len;
		reg[R10] = stack_lo + RUN_STACK_SIZE;
	}
#if CHECKED
	/*
	 * Unverified code may read stack it never wrote: it must never see old
	 * host data. Frames are zeroed when entered; below the deepest frame,
	 * [stack_lo, clean_lo) is zeroed when first touched, and all of it
	 * before a helper (which may read through any stack pointer) runs:
	 * so a callback, which a helper runs, finds it all clean.
	 */
	uintptr_t clean_lo = call ? stack_lo : reg[R10] - BPFRT_STACK_SIZE;

	memset((void *)(uintptr_t)(reg[R10] - BPFRT_STACK_SIZE), 0, BPFRT_STACK_SIZE);
#define CLEAN_DOWN_TO(a) do { \
		uintptr_t c_ = (a) & ~(uintptr_t)63; \
		if (c_ < stack_lo) \
			c_ = stack_lo; \
		if (c_ < clean_lo) { \
			memset((void *)c_, 0, clean_lo - c_); \
			clean_lo = c_; \
		} \
	} while (0)
#define NOTE_CLEAN(a) do { \
		if ((a) < clean_lo) \
			clean_lo = (a); \
	} while (0)
#else
#define CLEAN_DOWN_TO(a) ((void)0)
#define NOTE_CLEAN(a) ((void)0)
#endif

#define DST reg[x->dst]
#define SRC reg[x->src]
#if CHECKED
#define DISPATCH() do { \
		if (unlikely(budget == 0)) \
			goto out_of_budget; \
		budget--; \
		goto *x->op; \
	} while (0)
/* The stack and ctx inline; anything else through run_mem_ok. */
#define MEM_CHECK(addr, size, write) do { \
		uintptr_t m_ = (addr); \
		if (likely(m_ - stack_lo <= RUN_STACK_SIZE - (size))) { \
			CLEAN_DOWN_TO(m_); \
			break; \
		} \
		if (likely(ctx_len >= (size) && m_ - ctx_lo <= ctx_len - (size))) \
			break; \
		if (unlikely(!run_mem_ok(run, m_, (size), (write)))) { \
			fault_addr = (addr); \
			fault_size = (size); \
			fault_write = (write); \
			goto bad_access; \
		} \
	} while (0)
#define ALIGN_CHECK(addr, size) do { \
		if (unlikely((addr) & ((size) - 1))) { \
			fault_addr = (addr); \
			fault_size = (size); \
			goto misaligned; \
		} \
	} while (0)
#else
#define DISPATCH() goto *x->op
#define MEM_CHECK(addr, size, write) ((void)0)
#define ALIGN_CHECK(addr, size) ((void)0)
#endif
#define NEXT() do { x++; DISPATCH(); } while (0)

	DISPATCH();

/* One template per shape; c is the opcode byte, v the discriminating value. */
#define DO_SH_ALU_IMM(c, v)	DST = sem_alu_form(c, v, DST, x->k); NEXT();
#define DO_SH_ALU_REG(c, v)	DST = sem_alu_form(c, v, DST, SRC); NEXT();
#define DO_SH_NEG(c, v)		DST = sem_alu_form(c, v, DST, 0); NEXT();
#define DO_SH_END(c, v) \
	DST = sem_end(BPF_CLASS(c) == BPF_ALU64 || BPF_SRC(c) == BPF_TO_BE, v, DST); \
	NEXT();
#define DO_SH_LDDW(c, v)	DST = x->k; x += 2; DISPATCH();
#define DO_SH_LDX(c, v) { \
		uintptr_t a_ = (uintptr_t)(SRC + (uint64_t)(int64_t)x->off); \
		MEM_CHECK(a_, isa_size(c), false); \
		uint64_t v_ = mem_load(a_, isa_size(c)); \
		DST = BPF_MODE(c) == BPF_MEMSX ? sem_sext(isa_size(c), v_) : v_; \
		NEXT(); \
	}
#define DO_SH_ST(c, v) { \
		uintptr_t a_ = (uintptr_t)(DST + (uint64_t)(int64_t)x->off); \
		MEM_CHECK(a_, isa_size(c), true); \
		mem_store(a_, isa_size(c), x->k); \
		NEXT(); \
	}
#define DO_SH_STX(c, v) { \
		uintptr_t a_ = (uintptr_t)(DST + (uint64_t)(int64_t)x->off); \
		MEM_CHECK(a_, isa_size(c), true); \
		mem_store(a_, isa_size(c), SRC); \
		NEXT(); \
	}
#define DO_SH_ATOMIC(c, v) { \
		uintptr_t a_ = (uintptr_t)(DST + (uint64_t)(int64_t)x->off); \
		MEM_CHECK(a_, isa_size(c), true); \
		ALIGN_CHECK(a_, isa_size(c)); \
		mem_atomic(a_, isa_size(c), v, &SRC, &reg[R0]); \
		NEXT(); \
	}
#define DO_SH_LDABS(c, v) { \
		if (!run_ld_pkt(run, x->imm, isa_size(c), &reg[R0])) \
			goto pkt_miss; \
		NEXT(); \
	}
#define DO_SH_LDIND(c, v) { \
		if (!run_ld_pkt(run, (int32_t)(uint32_t)(SRC + (uint64_t)(int64_t)x->imm), \
				isa_size(c), &reg[R0])) \
			goto pkt_miss; \
		NEXT(); \
	}
#define DO_SH_JA(c, v)		x = x->target; DISPATCH();
#define DO_SH_JA32(c, v)	x = x->target; DISPATCH();
#define DO_SH_MAY_GOTO(c, v) \
	if (unlikely(loops == 0)) { \
		x = x->target; \
		DISPATCH(); \
	} \
	loops--; \
	NEXT();
/* Each direction dispatches on its own, so each indirect jump predicts well. */
#define DO_SH_JCOND_IMM(c, v) \
	if (sem_jcond(BPF_OP(c), isa_is_jmp32(c), DST, x->k)) { \
		x = x->target; \
		DISPATCH(); \
	} \
	NEXT();
#define DO_SH_JCOND_REG(c, v) \
	if (sem_jcond(BPF_OP(c), isa_is_jmp32(c), DST, SRC)) { \
		x = x->target; \
		DISPATCH(); \
	} \
	NEXT();
/* A helper may call back (run_call_func): it learns the frame and the budget. */
#define HELPER_IN() do { \
		CLEAN_DOWN_TO(stack_lo); \
		run->frame = reg[R10]; \
		if (CHECKED) \
			run->budget = budget; \
	} while (0)
#define HELPER_OUT() do { \
		if (CHECKED) \
			budget = run->budget; \
		if (unlikely(run->fail)) \
			goto helper_failed; \
	} while (0)
#define DO_SH_CALL(c, v) \
	HELPER_IN(); \
	reg[R0] = ((bpfrt_helper_fn)(uintptr_t)x->k)(reg[R1], reg[R2], reg[R3], \
						      reg[R4], reg[R5], run); \
	HELPER_OUT(); \
	NEXT();
#define DO_SH_CALLX(c, v) { \
		bpfrt_helper_fn fn_ = prog_helper(run->prog, DST); \
		if (unlikely(!fn_)) \
			goto no_helper; \
		HELPER_IN(); \
		reg[R0] = fn_(reg[R1], reg[R2], reg[R3], reg[R4], reg[R5], run); \
		HELPER_OUT(); \
		NEXT(); \
	}
#define DO_SH_CALL_LOCAL(c, v) \
	if (unlikely(depth + 1 >= BPFRT_MAX_FRAMES)) \
		goto too_deep; \
	frames[depth].ret = x + 1; \
	frames[depth].code = code; \
	frames[depth].prog = run->prog; \
	memcpy(frames[depth].saved, &reg[R6], sizeof(frames[depth].saved)); \
	frames[depth].loops = loops; \
	loops = ISA_MAY_GOTO_BUDGET; \
	depth++; \
	reg[R10] -= BPFRT_STACK_SIZE; \
	if (CHECKED) { \
		memset((void *)(uintptr_t)(reg[R10] - BPFRT_STACK_SIZE), 0, \
		       BPFRT_STACK_SIZE); \
		NOTE_CLEAN(reg[R10] - BPFRT_STACK_SIZE); \
	} \
	x = x->target; \
	DISPATCH();
#define DO_SH_EXIT(c, v) \
	if (depth == base) \
		goto done; \
	depth--; \
	memcpy(&reg[R6], frames[depth].saved, sizeof(frames[depth].saved)); \
	loops = frames[depth].loops; \
	x = frames[depth].ret; \
	code = frames[depth].code; \
	run->prog = frames[depth].prog; \
	DISPATCH();

#define HANDLER(id, code_, disc_, dval_, mnem_, shape_, ...) \
	H_##id: { DO_##shape_(code_, dval_) }
	ISA_FORMS(HANDLER)
#undef HANDLER

/*
 * Superinstructions (unchecked code only; interp.c's fuse() picks them).
 * x[1] and x[2] are the slots the sequence continues with, still decoded.
 */
H_MOVADD_REG:
	DST = SRC + reg[x[1].src];
	x += 2;
	DISPATCH();
H_MOVADD_IMM:
	DST = SRC + x[1].k;
	x += 2;
	DISPATCH();
#define MOVADD_LDX(name, size, addend) \
	H_MA_##name: { \
		uintptr_t a_ = (uintptr_t)(SRC + (addend)); \
		DST = a_; \
		reg[x[2].dst] = mem_load(a_ + (uint64_t)(int64_t)x[2].off, size); \
		x += 3; \
		DISPATCH(); \
	}
	MOVADD_LDX(LDXB_REG, 1, reg[x[1].src])
	MOVADD_LDX(LDXB_IMM, 1, x[1].k)
	MOVADD_LDX(LDXH_REG, 2, reg[x[1].src])
	MOVADD_LDX(LDXH_IMM, 2, x[1].k)
	MOVADD_LDX(LDXW_REG, 4, reg[x[1].src])
	MOVADD_LDX(LDXW_IMM, 4, x[1].k)
	MOVADD_LDX(LDXDW_REG, 8, reg[x[1].src])
	MOVADD_LDX(LDXDW_IMM, 8, x[1].k)
#undef MOVADD_LDX

/* add dst, k; then the conditional jump in x[1], for each jcond form. */
#define FJ_SH_JCOND_IMM(c) \
	if (sem_jcond(BPF_OP(c), isa_is_jmp32(c), reg[x[1].dst], x[1].k)) { \
		x = x[1].target; \
		DISPATCH(); \
	} \
	x += 2; \
	DISPATCH();
#define FJ_SH_JCOND_REG(c) \
	if (sem_jcond(BPF_OP(c), isa_is_jmp32(c), reg[x[1].dst], reg[x[1].src])) { \
		x = x[1].target; \
		DISPATCH(); \
	} \
	x += 2; \
	DISPATCH();
#define FJ_NONE(c) goto H_TRAP;
#define FJ_SH_ALU_IMM FJ_NONE
#define FJ_SH_ALU_REG FJ_NONE
#define FJ_SH_NEG FJ_NONE
#define FJ_SH_END FJ_NONE
#define FJ_SH_LDDW FJ_NONE
#define FJ_SH_LDX FJ_NONE
#define FJ_SH_ST FJ_NONE
#define FJ_SH_STX FJ_NONE
#define FJ_SH_ATOMIC FJ_NONE
#define FJ_SH_LDABS FJ_NONE
#define FJ_SH_LDIND FJ_NONE
#define FJ_SH_JA FJ_NONE
#define FJ_SH_JA32 FJ_NONE
#define FJ_SH_CALL FJ_NONE
#define FJ_SH_CALL_LOCAL FJ_NONE
#define FJ_SH_CALLX FJ_NONE
#define FJ_SH_EXIT FJ_NONE
#define FJ_SH_MAY_GOTO FJ_NONE
#define ADDI_JCOND(id, code_, disc_, dval_, mnem_, shape_, ...) \
	HA64_##id: { DST = sem_alu64(BPF_ADD, 0, DST, x->k); FJ_##shape_(code_) } \
	HA32_##id: { DST = sem_alu32(BPF_ADD, 0, DST, x->k); FJ_##shape_(code_) }
	ISA_FORMS(ADDI_JCOND)
#undef ADDI_JCOND

/*
 * if cond goto +1; alu — the jump sets `skip`, the ALU's select handler
 * (in x[1].sel) computes its result and keeps the old value if skipping.
 */
#define SKIP_SH_JCOND_IMM(c) \
	skip = sem_jcond(BPF_OP(c), isa_is_jmp32(c), DST, x->k); \
	goto *x[1].sel;
#define SKIP_SH_JCOND_REG(c) \
	skip = sem_jcond(BPF_OP(c), isa_is_jmp32(c), DST, SRC); \
	goto *x[1].sel;
/* A mask, not a ternary: the compiler must not turn it back into a branch. */
#define SEL_DO(value) { \
		uint64_t old_ = reg[x[1].dst], new_ = (value); \
		uint64_t keep_ = -(uint64_t)skip; \
		reg[x[1].dst] = (old_ & keep_) | (new_ & ~keep_); \
		x += 2; \
		DISPATCH(); \
	}
#define SEL_SH_ALU_IMM(c, v) SEL_DO(sem_alu_form(c, v, old_, x[1].k))
#define SEL_SH_ALU_REG(c, v) SEL_DO(sem_alu_form(c, v, old_, reg[x[1].src]))
#define SEL_SH_NEG(c, v) SEL_DO(sem_alu_form(c, v, old_, 0))
#define SEL_SH_END(c, v) \
	SEL_DO(sem_end(BPF_CLASS(c) == BPF_ALU64 || BPF_SRC(c) == BPF_TO_BE, v, old_))
#define SKIP_NONE(c) goto H_TRAP;
#define SEL_NONE(c, v) goto H_TRAP;
#define SKIP_SH_ALU_IMM SKIP_NONE
#define SKIP_SH_ALU_REG SKIP_NONE
#define SKIP_SH_NEG SKIP_NONE
#define SKIP_SH_END SKIP_NONE
#define SKIP_SH_LDDW SKIP_NONE
#define SKIP_SH_LDX SKIP_NONE
#define SKIP_SH_ST SKIP_NONE
#define SKIP_SH_STX SKIP_NONE
#define SKIP_SH_ATOMIC SKIP_NONE
#define SKIP_SH_LDABS SKIP_NONE
#define SKIP_SH_LDIND SKIP_NONE
#define SKIP_SH_JA SKIP_NONE
#define SKIP_SH_JA32 SKIP_NONE
#define SKIP_SH_CALL SKIP_NONE
#define SKIP_SH_CALL_LOCAL SKIP_NONE
#define SKIP_SH_CALLX SKIP_NONE
#define SKIP_SH_EXIT SKIP_NONE
#define SKIP_SH_MAY_GOTO SKIP_NONE
#define SEL_SH_JCOND_IMM SEL_NONE
#define SEL_SH_JCOND_REG SEL_NONE
#define SEL_SH_LDDW SEL_NONE
#define SEL_SH_LDX SEL_NONE
#define SEL_SH_ST SEL_NONE
#define SEL_SH_STX SEL_NONE
#define SEL_SH_ATOMIC SEL_NONE
#define SEL_SH_LDABS SEL_NONE
#define SEL_SH_LDIND SEL_NONE
#define SEL_SH_JA SEL_NONE
#define SEL_SH_JA32 SEL_NONE
#define SEL_SH_CALL SEL_NONE
#define SEL_SH_CALL_LOCAL SEL_NONE
#define SEL_SH_CALLX SEL_NONE
#define SEL_SH_EXIT SEL_NONE
#define SEL_SH_MAY_GOTO SEL_NONE
#define SKIP_SELECT(id, code_, disc_, dval_, mnem_, shape_, ...) \
	HS_##id: { SKIP_##shape_(code_) } \
	HL_##id: { SEL_##shape_(code_, dval_) }
	ISA_FORMS(SKIP_SELECT)
#undef SKIP_SELECT

/*
 * The root of a compare tree (find_switches): the value's way from the
 * table, or the way of the values below or above it.
 */
H_SWITCH: {
	const struct iswitch *sw_ = (const struct iswitch *)(uintptr_t)x->k;
	uint64_t v_ = DST, key_, i_;
	const struct iway *w_;

	key_ = sw_->w64 ? v_ : sw_->sign ? (uint64_t)(int64_t)(int32_t)v_ : (uint32_t)v_;
	i_ = key_ - sw_->lo;
	if (likely(i_ < sw_->count))
		w_ = &sw_->ways[sw_->entry[i_]];
	else if (sw_->has_below && (!sw_->has_above ||
				    (sw_->sign ? (int64_t)key_ < (int64_t)sw_->lo : key_ < sw_->lo)))
		w_ = &sw_->ways[sw_->entry[sw_->count]];
	else
		w_ = &sw_->ways[sw_->entry[sw_->count + 1]];
	for (unsigned m_ = 0; m_ < w_->nmov; m_++)
		reg[w_->dst[m_]] = w_->kind[m_] == MV_CONST ? w_->val[m_]
				 : w_->kind[m_] == MV_COPY32 ? (uint32_t)v_ : v_;
	x = w_->leaf;
	DISPATCH();
}

/* A rotate (idiom.h): t = x shifted by x[1].k, x rotated left by x->k; four slots. */
#define ROT(name, T, bits, tval) \
	H_##name: { \
		T v_ = (T)SRC; \
		uint64_t t_ = (T)(tval); \
		reg[x->src] = (T)((v_ << x->k) | (v_ >> ((bits) - x->k))); \
		reg[x->dst] = t_; \
		x += 4; \
		DISPATCH(); \
	}
	ROT(ROT32_L, uint32_t, 32, v_ << x[1].k)
	ROT(ROT32_R, uint32_t, 32, v_ >> x[1].k)
	ROT(ROT64_L, uint64_t, 64, v_ << x[1].k)
	ROT(ROT64_R, uint64_t, 64, v_ >> x[1].k)
#undef ROT

H_TRAP:
	return err_set(err, -EFAULT, (int)(x - code),
		       "insn %zu: executed the second slot of an lddw",
		       (size_t)(x - code));
pkt_miss:
	/*
	 * A packet load out of range ends the program with r0 = 0, as in
	 * Linux; in a callback (which Linux does not allow to load packets),
	 * the callback, as the JIT does.
	 */
	reg[R0] = 0;
done:
	if (call) {
		call->r0 = reg[R0];
		run->budget = budget;
		return 0;
	}
	opts->retval = reg[R0];
	opts->insns = CHECKED ? limit - budget : 0;
	return 0;
helper_failed:
	if (run->fail == RUN_TAIL_CALL) {
		/* The program in this frame is replaced; the frames below stay. */
		run->fail = 0;
		code = run->tail_code;
		x = code;
		loops = ISA_MAY_GOTO_BUDGET;	/* a new program's entry */
		if (CHECKED)
			memset((void *)(uintptr_t)(reg[R10] - BPFRT_STACK_SIZE), 0,
			       BPFRT_STACK_SIZE);
		DISPATCH();
	}
	return err_set(err, run->fail, (int)(x - code), "insn %zu: %s",
		       (size_t)(x - code), run->fail_msg);
no_helper:
	return err_set(err, -ENOENT, (int)(x - code),
		       "insn %zu: callx to helper %llu, which is not available",
		       (size_t)(x - code), (unsigned long long)DST);
too_deep:
	return err_set(err, -E2BIG, (int)(x - code),
		       "insn %zu: call nesting exceeds %u frames",
		       (size_t)(x - code), BPFRT_MAX_FRAMES);
#if CHECKED
out_of_budget:
	opts->insns = limit;
	return err_set(err, -ELOOP, (int)(x - code),
		       "insn %zu: stopped after %llu instructions, the budget of "
		       "this run", (size_t)(x - code), (unsigned long long)limit);
bad_access:
	return run_mem_fault(run, (size_t)(x - code), fault_addr, fault_size,
			     fault_write, err);
misaligned:
	return err_set(err, -EFAULT, (int)(x - code),
		       "insn %zu: atomic access of %u bytes at %#lx is misaligned",
		       (size_t)(x - code), fault_size, (unsigned long)fault_addr);
#endif
	(void)fault_addr;
	(void)fault_size;
	(void)fault_write;

#undef DST
#undef SRC
#undef DISPATCH
#undef MEM_CHECK
#undef CLEAN_DOWN_TO
#undef NOTE_CLEAN
#undef HELPER_IN
#undef HELPER_OUT
#undef ALIGN_CHECK
#undef NEXT
#undef DO_SH_ALU_IMM
#undef DO_SH_ALU_REG
#undef DO_SH_NEG
#undef DO_SH_END
#undef DO_SH_LDDW
#undef DO_SH_LDX
#undef DO_SH_ST
#undef DO_SH_STX
#undef DO_SH_ATOMIC
#undef DO_SH_LDABS
#undef DO_SH_LDIND
#undef DO_SH_JA
#undef DO_SH_JA32
#undef DO_SH_JCOND_IMM
#undef DO_SH_JCOND_REG
#undef DO_SH_CALL
#undef DO_SH_CALLX
#undef DO_SH_CALL_LOCAL
#undef DO_SH_EXIT
#undef DO_SH_MAY_GOTO
}

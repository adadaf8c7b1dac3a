/* SPDX-License-Identifier: MIT
 *
 * dump.c - a listing of the internal code of a loaded module, for
 * debugging the compiler and studying what the interpreter executes
 * (`nano-wasm dump FILE.wasm`).
 *
 * Each instruction's operand layout ("shape") is derived from its ops.def
 * class, or given below for control and special instructions.  Shape
 * letters: d destination slot, s source slot, u 32-bit immediate,
 * I 64-bit immediate, t branch target, p pointer (callee code or type),
 * B a br_table (count, then count+1 targets).
 */
#include <stdio.h>
#include <string.h>

#include "wasm_int.h"

static const char *
shape(enum wasm__iop iop)
{
    switch (iop) {
    case WASM_IOP_copy:          return "ds";
    case WASM_IOP_const32:       return "du";
    case WASM_IOP_const64:       return "dI";
    case WASM_IOP_select:        return "dsss";
    case WASM_IOP_trap:          return "u";
    case WASM_IOP_store8_i:      case WASM_IOP_store16_i:
    case WASM_IOP_store32_i:     return "suuu";
    case WASM_IOP_store64_i:     return "suuI";
    case WASM_IOP_br:            return "t";
    case WASM_IOP_br_back:       return "t";
    case WASM_IOP_br_if:         case WASM_IOP_br_ifz:
    case WASM_IOP_br_if_back:    case WASM_IOP_br_ifz_back:
    case WASM_IOP_br_i64nz:      case WASM_IOP_br_i64z:
    case WASM_IOP_br_i64nz_back: case WASM_IOP_br_i64z_back:
        return "st";
    case WASM_IOP_br_table:      return "sB";
    case WASM_IOP_addbr_nz:      return "dsust";
    case WASM_IOP_ret:           return "";
    case WASM_IOP_ret1:          return "s";
    case WASM_IOP_call:          return "pu";
    case WASM_IOP_call_import:   return "uu";
    case WASM_IOP_call_indirect: return "upus";
    case WASM_IOP_global_get:    return "du";
    case WASM_IOP_global_set:    return "us";
    case WASM_IOP_ref_is_null:   return "ds";
    case WASM_IOP_ref_func:      return "du";
    case WASM_IOP_table_get:     return "dsu";
    case WASM_IOP_table_set:     return "ssu";
    case WASM_IOP_table_size:    return "du";
    case WASM_IOP_table_grow:    return "dssu";
    case WASM_IOP_table_fill:    return "sssu";
    case WASM_IOP_table_copy:    return "sssuu";
    case WASM_IOP_table_init:    return "sssuu";
    case WASM_IOP_elem_drop:     return "u";
    case WASM_IOP_memory_size:   return "d";
    case WASM_IOP_memory_grow:   return "ds";
    case WASM_IOP_memory_fill:   return "sss";
    case WASM_IOP_memory_copy:   return "sss";
    case WASM_IOP_memory_init:   return "sssu";
    case WASM_IOP_data_drop:     return "u";
    default:
        break;
    }
#define SHAPE_X(n)
#define SHAPE_H(n)
#define SHAPE_N(n)  case WASM_IOP_##n: return strlen(wasm__ops[WASM_OP_##n].pop) == 1 ? "ds" : "dss";
#define SHAPE_L1(n) case WASM_IOP_##n: return "dsuu";
#define SHAPE_L2 SHAPE_L1
#define SHAPE_L4 SHAPE_L1
#define SHAPE_L8 SHAPE_L1
#define SHAPE_S1(n) case WASM_IOP_##n: return "ssuu";
#define SHAPE_S2 SHAPE_S1
#define SHAPE_S4 SHAPE_S1
#define SHAPE_S8 SHAPE_S1
#define VSHAPE_NONE(n, base)
#define VSHAPE_IMM(n, base)  case WASM_IOP_##n: return base##_is64 ? "dsI" : "dsu";
#define VSHAPE_BR(n, base)   case WASM_IOP_##n: return "sst";
#define VSHAPE_BRB(n, base)  case WASM_IOP_##n: return "sst";
#define VSHAPE_BRI(n, base)  case WASM_IOP_##n: return base##_is64 ? "sIt" : "sut";
#define VSHAPE_BRIB(n, base) case WASM_IOP_##n: return base##_is64 ? "sIt" : "sut";
#define VSHAPE_ADDBR(n, base)  case WASM_IOP_##n: return "dsusst";
#define VSHAPE_ADDBRI(n, base) case WASM_IOP_##n: return "dsusut";
    switch (iop) {
#define WASM_OP(n, pfx, code, imm, pop, push, cls, feat) SHAPE_##cls(n)
#define WASM_IOP(n, base, variant) VSHAPE_##variant(n, base)
#define i32_add_is64   0
#define i32_sub_is64   0
#define i32_mul_is64   0
#define i32_and_is64   0
#define i32_or_is64    0
#define i32_xor_is64   0
#define i32_shl_is64   0
#define i32_shr_s_is64 0
#define i32_shr_u_is64 0
#define i32_rotl_is64  0
#define i32_rotr_is64  0
#define i32_div_u_is64 0
#define i32_div_s_is64 0
#define i32_rem_s_is64 0
#define i32_rem_u_is64 0
#define i32_eq_is64    0
#define i32_ne_is64    0
#define i32_lt_s_is64  0
#define i32_lt_u_is64  0
#define i32_gt_s_is64  0
#define i32_gt_u_is64  0
#define i32_le_s_is64  0
#define i32_le_u_is64  0
#define i32_ge_s_is64  0
#define i32_ge_u_is64  0
#define i64_add_is64   1
#define i64_sub_is64   1
#define i64_mul_is64   1
#define i64_and_is64   1
#define i64_or_is64    1
#define i64_xor_is64   1
#define i64_shl_is64   1
#define i64_shr_s_is64 1
#define i64_shr_u_is64 1
#define i64_eq_is64    1
#define i64_ne_is64    1
#define i64_lt_s_is64  1
#define i64_lt_u_is64  1
#define i64_gt_s_is64  1
#define i64_gt_u_is64  1
#define i64_le_s_is64  1
#define i64_le_u_is64  1
#define i64_ge_s_is64  1
#define i64_ge_u_is64  1
#include "ops.def"
    default:
        break;
    }
    return NULL;
}

/* Which instruction is at this cell?  Reverse lookup of the handler. */
static int
iop_of(const union wasm__cell *c)
{
    for (int i = 0; i < WASM_IOP_COUNT; i++)
        if (wasm__handler((enum wasm__iop)i) == c->op)
            return i;
    return -1;
}

static void
dump_func(const struct nano_wasm_module *m, uint32_t def, FILE *out)
{
    const struct wasm__code *fc = &m->code[def];
    const union wasm__cell *c = fc->cells, *end = c + fc->ncells;

    fprintf(out, "func %u: params %u, locals %u, results %u, frame %u slots, %u cells\n",
            fc->func_idx, fc->nparams, fc->nlocals, fc->nresults, fc->frame_size,
            fc->ncells);
    while (c < end) {
        int iop = iop_of(c);
        const char *sh = iop >= 0 ? shape((enum wasm__iop)iop) : NULL;

        fprintf(out, "  %5u  %-18s", (unsigned)(c - fc->cells),
                iop >= 0 ? wasm__iop_name((enum wasm__iop)iop) : "?");
        if (!sh) {
            fprintf(out, " (unknown layout)\n");
            return;
        }
        c++;
        for (const char *s = sh; *s && c < end; s++) {
            uint64_t v;
            switch (*s) {
            case 'd': fprintf(out, " [%u]=", c->u32); c++; break;
            case 's': fprintf(out, " [%u]", c->u32); c++; break;
            case 'u': fprintf(out, " %u", c->u32); c++; break;
            case 'I':
                memcpy(&v, c, 8);
                fprintf(out, " %llu", (unsigned long long)v);
                c += WASM_IMM64_CELLS;
                break;
            case 't': fprintf(out, " ->%u", (unsigned)(c->target - fc->cells)); c++; break;
            case 'p': {
                const struct wasm__code *callee = NULL;
                for (uint32_t k = 0; k < m->nfuncs - m->nfunc_imports; k++)
                    if (c->ptr == &m->code[k])
                        callee = &m->code[k];
                if (callee)
                    fprintf(out, " func %u", callee->func_idx);
                else
                    fprintf(out, " type %u", (unsigned)((const struct wasm__functype *)c->ptr - m->types));
                c++;
                break;
            }
            case 'B': {
                uint32_t n = c->u32;
                fprintf(out, " %u:", n);
                c++;
                for (uint32_t k = 0; k <= n && c < end; k++, c++)
                    fprintf(out, " ->%u", (unsigned)(c->target - fc->cells));
                break;
            }
            }
        }
        fputc('\n', out);
    }
}

void
nano_wasm_module_dump(const struct nano_wasm_module *mod, FILE *out)
{
    for (uint32_t i = 0; i < mod->nfuncs - mod->nfunc_imports; i++)
        dump_func(mod, i, out);
}

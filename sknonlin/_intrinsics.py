"""LLVM intrinsics for the kernels, in a module imported only when they compile.

Importing this module imports numba and llvmlite; the kernel modules refer to
its contents through :class:`sknonlin._jit.LazyIntrinsic`, so that importing
the package does not.
"""

from llvmlite import binding as llvm
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

# LLVM names the intrinsic after its pointer type; typed pointers went away
# in LLVM 15.
_LLVM_PREFETCH = (
    "llvm.prefetch.p0" if llvm.llvm_version_info[0] >= 15 else "llvm.prefetch.p0i8"
)


@intrinsic
def prefetch(typingctx, array, index):
    """Hint the CPU to fetch ``array[index]`` into cache; no effect on results.

    ``index`` is an integer for a 1-D array and a pair for a 2-D array.
    """
    if not isinstance(array, types.Array):
        return None
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):
        array_type, index_type = signature.args
        array_struct = context.make_array(array_type)(context, builder, args[0])
        if isinstance(index_type, types.BaseTuple):
            indices = cgutils.unpack_tuple(builder, args[1])
        else:
            indices = [args[1]]
        pointer = cgutils.get_item_pointer(
            context, builder, array_type, array_struct, indices, wraparound=False
        )
        i8_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [i8_pointer, i32, i32, i32]),
            _LLVM_PREFETCH,
        )
        # Arguments: address, read (0), high temporal locality (3), data (1).
        builder.call(
            function,
            [
                builder.bitcast(pointer, i8_pointer),
                ir.Constant(i32, 0),
                ir.Constant(i32, 3),
                ir.Constant(i32, 1),
            ],
        )
        return context.get_dummy_value()

    return sig, codegen

// Keeps dualnet_core a real library while it has no other translation unit.
namespace dualnet {}

// edgehost SoC: a PicoRV32 (RV32IMC, from the pythondata-cpu-picorv32 package, read from
// site-packages at build time), the edgehost custom unit on its PCPI port (eh_cfu.v), a
// 16550-compatible UART register file (eh_uart_regs.v) and an exit register. The RAM itself is
// outside (eh_ram.v in the simulation and ECP5 tops, SPRAM in the iCE40 top); this module drives one
// synchronous port of it: ram_en/ram_we/ram_addr/ram_wdata in a cycle, ram_rdata the next.
//
// Memory map (the same as QEMU's riscv32 virt where it matters, so the same drivers work):
//   0x0010_0000  exit register (SiFive test device: 0x5555 = exit 0, code << 16 | 0x3333)
//   0x1000_0000  UART, 16550 registers at byte offsets 0..7 (RBR/THR, IER, IIR/FCR, LCR, MCR, LSR)
//   0x1000_1000  system: +0 cycle counter (low), +4 (high) (both 0 with SMALL: use rdcycle),
//                +8 features (bit 0: custom unit)
//   0x0000_0000  boot ROM (only with BOOTROM_WORDS > 0: the FPGA boards' UART loader, fpga/boot)
//   0x8000_0000  RAM (2^RAM_ADDR_BITS bytes), the reset vector at its start (without a boot ROM)
`default_nettype none
module eh_soc #(
    parameter integer RAM_ADDR_BITS = 23,   // bytes of RAM = 2^RAM_ADDR_BITS
    parameter integer WITH_CFU = 1,
    parameter integer FAST_MUL = 0,
    parameter integer WITH_DIV = 1,          // 0: no divider (firmware built with -mno-div)
    parameter integer SMALL = 0,             // 1 (iCE40): 32-bit rdcycle only, no misalignment traps,
                                             // shifts 4 bits per cycle instead of a barrel shifter
    parameter integer BOOTROM_WORDS = 0,     // >0: a ROM at 0x0000_0000 (BRAM), the reset vector
    parameter BOOTROM_HEX = "",
    parameter [31:0] RESET_ADDR = 32'h8000_0000
) (
    input  wire        clk,
    input  wire        resetn,
    input  wire        cfu_enable,          // 0: the unit ignores its instructions (they trap)
    // RAM port (synchronous, one cycle read latency)
    output wire        ram_en,
    output wire [3:0]  ram_we,
    output wire [RAM_ADDR_BITS-3:0] ram_addr,   // word address
    output wire [31:0] ram_wdata,
    input  wire [31:0] ram_rdata,
    // UART byte streams
    output wire        tx_valid,
    output wire [7:0]  tx_data,
    input  wire        tx_ready,
    input  wire        tx_busy,             // the line is still sending (for LSR.TEMT)
    input  wire        rx_valid,
    input  wire [7:0]  rx_data,
    output wire        rx_ready,
    output wire [15:0] uart_divisor,
    // exit register and CPU trap
    output reg         exit_valid,
    output reg  [15:0] exit_code,
    output wire        trap
);
    wire        mem_valid, mem_instr;
    wire [31:0] mem_addr, mem_wdata;
    wire [3:0]  mem_wstrb;
    reg         mem_ready;   // combinational (always @*)
    reg  [31:0] mem_rdata;

    wire        pcpi_valid;
    wire [31:0] pcpi_insn, pcpi_rs1, pcpi_rs2;
    wire        pcpi_wr, pcpi_wait, pcpi_ready;
    wire [31:0] pcpi_rd;

    picorv32 #(
        .ENABLE_COUNTERS(1), .ENABLE_COUNTERS64(SMALL == 0), .ENABLE_REGS_16_31(1),
        .ENABLE_REGS_DUALPORT(1), .LATCHED_MEM_RDATA(0), .TWO_STAGE_SHIFT(1),
        .BARREL_SHIFTER(SMALL == 0), .TWO_CYCLE_COMPARE(0), .TWO_CYCLE_ALU(0),
        .COMPRESSED_ISA(1), .CATCH_MISALIGN(SMALL == 0), .CATCH_ILLINSN(1),
        .ENABLE_PCPI(WITH_CFU != 0), .ENABLE_MUL(FAST_MUL == 0), .ENABLE_FAST_MUL(FAST_MUL != 0),
        .ENABLE_DIV(WITH_DIV != 0), .ENABLE_IRQ(0), .ENABLE_TRACE(0),
        .PROGADDR_RESET(RESET_ADDR), .STACKADDR(32'hffff_ffff)
    ) cpu (
        .clk(clk), .resetn(resetn), .trap(trap),
        .mem_valid(mem_valid), .mem_instr(mem_instr), .mem_ready(mem_ready),
        .mem_addr(mem_addr), .mem_wdata(mem_wdata), .mem_wstrb(mem_wstrb), .mem_rdata(mem_rdata),
        .mem_la_read(), .mem_la_write(), .mem_la_addr(), .mem_la_wdata(), .mem_la_wstrb(),
        .pcpi_valid(pcpi_valid), .pcpi_insn(pcpi_insn), .pcpi_rs1(pcpi_rs1), .pcpi_rs2(pcpi_rs2),
        .pcpi_wr(pcpi_wr), .pcpi_rd(pcpi_rd), .pcpi_wait(pcpi_wait), .pcpi_ready(pcpi_ready),
        .irq(32'b0), .eoi(), .trace_valid(), .trace_data()
    );

    // ---- the custom unit and its memory port ----
    wire        cfu_req, cfu_en;
    wire [3:0]  cfu_we;
    wire [31:0] cfu_addr, cfu_wdata;
    reg         cfu_own;
    generate if (WITH_CFU != 0) begin : g_cfu
        eh_cfu #(.AW(RAM_ADDR_BITS)) cfu (
            .clk(clk), .resetn(resetn), .enable(cfu_enable),
            .pcpi_valid(pcpi_valid), .pcpi_insn(pcpi_insn), .pcpi_rs1(pcpi_rs1), .pcpi_rs2(pcpi_rs2),
            .pcpi_wr(pcpi_wr), .pcpi_rd(pcpi_rd), .pcpi_wait(pcpi_wait), .pcpi_ready(pcpi_ready),
            .bus_req(cfu_req), .bus_gnt(cfu_own), .bus_en(cfu_en), .bus_we(cfu_we),
            .bus_addr(cfu_addr), .bus_wdata(cfu_wdata), .bus_rdata(ram_rdata)
        );
    end else begin : g_nocfu
        assign pcpi_wr = 1'b0; assign pcpi_rd = 32'b0; assign pcpi_wait = 1'b0;
        assign pcpi_ready = 1'b0; assign cfu_req = 1'b0; assign cfu_en = 1'b0;
        assign cfu_we = 4'b0; assign cfu_addr = 32'b0; assign cfu_wdata = 32'b0;
    end endgenerate

    // ---- address decode (CPU side) ----
    wire sel_ram  = mem_addr[31:RAM_ADDR_BITS] == (32'h8000_0000 >> RAM_ADDR_BITS);
    wire sel_uart = mem_addr[31:12] == 20'h10000;
    wire sel_sys  = mem_addr[31:12] == 20'h10001;
    wire sel_exit = mem_addr[31:12] == 20'h00100;
    wire sel_rom  = BOOTROM_WORDS != 0 && mem_addr[31:12] == 20'h00000;

    // ---- boot ROM (synchronous, like a BRAM) ----
    reg rom_pending;
    reg [31:0] rom_q;
    wire rom_access = mem_valid && !mem_ready && sel_rom;
    generate if (BOOTROM_WORDS != 0) begin : g_rom
        reg [31:0] rom [0:BOOTROM_WORDS-1];
        initial $readmemh(BOOTROM_HEX, rom);
        always @(posedge clk) rom_q <= rom[mem_addr[$clog2(BOOTROM_WORDS)+1:2]];
    end else begin : g_norom
        always @(posedge clk) rom_q <= 32'b0;
    end endgenerate
    always @(posedge clk) rom_pending <= resetn && rom_access;

    // RAM: the unit owns the port while it runs (the CPU waits on its PCPI instruction then).
    wire cpu_ram = mem_valid && !mem_ready && sel_ram && !cfu_own;
    always @(posedge clk) begin
        if (!resetn) cfu_own <= 1'b0;
        else if (!cfu_own && cfu_req && !cpu_ram) cfu_own <= 1'b1;
        else if (cfu_own && !cfu_req) cfu_own <= 1'b0;
    end
    assign ram_en    = cfu_own ? cfu_en : cpu_ram;
    assign ram_we    = cfu_own ? cfu_we : (cpu_ram ? mem_wstrb : 4'b0);
    assign ram_addr  = cfu_own ? cfu_addr[RAM_ADDR_BITS-1:2] : mem_addr[RAM_ADDR_BITS-1:2];
    assign ram_wdata = cfu_own ? cfu_wdata : mem_wdata;

    // ---- UART registers ----
    wire        uart_access = mem_valid && !mem_ready && sel_uart;
    wire [31:0] uart_rdata;
    eh_uart_regs uart (
        .clk(clk), .resetn(resetn),
        .access(uart_access), .word(mem_addr[2]), .wstrb(mem_wstrb), .wdata(mem_wdata),
        .rdata(uart_rdata),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_ready(tx_ready), .tx_busy(tx_busy),
        .rx_valid(rx_valid), .rx_data(rx_data), .rx_ready(rx_ready), .divisor(uart_divisor)
    );

    // ---- cycle counter, features, exit ----
    reg [63:0] cycles;
    generate if (SMALL == 0) begin : g_cyc64
        always @(posedge clk) cycles <= resetn ? cycles + 64'd1 : 64'd0;
    end else begin : g_cyc0   // rdcycle only
        always @(posedge clk) cycles <= 64'd0;
    end endgenerate

    // Peripherals answer one cycle after the access from registers; the RAM answers in the
    // cycle after its access straight from its output register.
    reg        ram_pending, periph_ready;
    reg [31:0] periph_rdata;
    always @* begin
        mem_ready = periph_ready | ram_pending | rom_pending;
        mem_rdata = ram_pending ? ram_rdata : rom_pending ? rom_q : periph_rdata;
    end
    always @(posedge clk) begin
        periph_ready <= 1'b0;
        exit_valid <= 1'b0;
        if (!resetn) begin
            ram_pending <= 1'b0;
            exit_code <= 16'd0;
            periph_rdata <= 32'b0;
        end else begin
            ram_pending <= cpu_ram;
            if (mem_valid && !mem_ready && !sel_ram && !sel_rom) begin
                periph_ready <= 1'b1;
                periph_rdata <= 32'b0;
                if (sel_uart) periph_rdata <= uart_rdata;
                if (sel_sys)
                    case (mem_addr[3:2])
                        2'd0: periph_rdata <= cycles[31:0];
                        2'd1: periph_rdata <= cycles[63:32];
                        2'd2: periph_rdata <= {31'b0, WITH_CFU != 0 && cfu_enable};
                        default: periph_rdata <= 32'b0;
                    endcase
                if (sel_exit && mem_wstrb[0]) begin
                    if (mem_wdata[15:0] == 16'h5555) begin exit_valid <= 1'b1; exit_code <= 16'd0; end
                    else if (mem_wdata[15:0] == 16'h3333) begin exit_valid <= 1'b1; exit_code <= mem_wdata[31:16]; end
                end
            end
        end
    end
    // verilator lint_off UNUSED
    wire unused_ok = &{1'b0, mem_instr};
    // verilator lint_on UNUSED
endmodule
`default_nettype wire
